// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IJobMarket
/// @notice Types of the job market and what the dispute resolver calls on it.
interface IJobMarket {
    /// @notice Open: descending public bids. Sealed: commit, reveal, second-price settlement.
    enum AuctionKind {
        Open,
        Sealed
    }

    /// @notice Bidding → Leased → ResultSubmitted → Settled, or Cancelled, Expired, Failed, Disputed.
    enum JobStatus {
        None,
        Bidding,
        Leased,
        ResultSubmitted,
        Settled,
        Cancelled,
        Expired,
        Failed,
        Disputed
    }

    /// @notice What a customer asks for.
    /// @param gpuModel GPU model name as bytes32 (e.g. "H100-80GB").
    /// @param gpuCount GPUs needed.
    /// @param minVramGb Least memory per GPU.
    /// @param region Region code, or zero for any region.
    /// @param duration Lease length in seconds.
    /// @param maxPricePerGpuHour Highest price the customer pays, in credits (18 decimals) per GPU-hour.
    /// @param biddingEnd Timestamp when bidding (or committing, for sealed auctions) closes.
    /// @param kind Open or sealed auction.
    /// @param minReputationBps Least provider reputation accepted.
    /// @param holdbackBps Share of pay held until the challenge window closes (10000: pay on acceptance).
    /// @param verification Whether a verifier checks the result.
    struct JobSpec {
        bytes32 gpuModel;
        uint32 gpuCount;
        uint32 minVramGb;
        bytes32 region;
        uint64 duration;
        uint128 maxPricePerGpuHour;
        uint64 biddingEnd;
        AuctionKind kind;
        uint16 minReputationBps;
        uint16 holdbackBps;
        bool verification;
    }

    /// @notice What the dispute resolver needs to know of a job.
    struct JobParties {
        address customer;
        address provider;
        JobStatus status;
        bool verification;
        uint64 challengeEnd;
        uint128 collateral;
    }

    /// @notice Parties, status and stakes of job `jobId`.
    function jobParties(uint256 jobId) external view returns (JobParties memory);

    /// @notice Marks a job whose result was challenged in time as disputed. Resolver only.
    function openDispute(uint256 jobId) external;

    /// @notice Applies a dispute's outcome in one call. On provider fault the collateral is
    ///         slashed to `recipients` (customer first), unspent escrow returns to the customer
    ///         and the provider's reputation records a lost dispute; otherwise the job settles.
    function resolveDispute(
        uint256 jobId,
        bool providerFault,
        address[] calldata recipients,
        uint256[] calldata amounts
    ) external;
}
