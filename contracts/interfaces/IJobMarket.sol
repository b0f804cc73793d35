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
        // What to run: the sha256 of its workload manifest (docs/workloads.md) and where the
        // manifest is published. Both empty for a bare capacity lease whose work the customer
        // brings itself; both set, or the job is refused (`InvalidJobSpec("workload")`).
        bytes32 workload;
        string manifestURI;
    }

    /// @notice A job's whole record, as `JobMarket.getJob` gives it. The market stores it packed
    ///         (`JobMarketStorage.StoredJob`: four slots for an open job, a fifth for a sealed or
    ///         verified one, a sixth for a region) and unpacks it here. The escrow and the pay
    ///         released are not stored: both follow from the status, the terms, the price and
    ///         the time of the provider's last claim (`JobMarket.fundsOf`). The result's hash,
    ///         like the workload's, is in the event only (`ResultSubmitted`). A bidder's lock on
    ///         its `Offer` is `collateral + gpuStake` CMP of the offer's provision and `gpuCount`
    ///         of its GPUs, for the best bidder and for each sealed commitment alike.
    struct Job {
        address customer;
        uint32 biddingEnd; // seconds, to 2106 (as every time of the job)
        uint32 revealEnd; // sealed: reveals close; open: 0
        AuctionKind kind;
        JobStatus status;
        uint8 targetBids; // sealed: `targetBidsPerJob` at posting (the close's nudge); open: 0
        bytes32 gpuModel;
        bytes32 region; // zero: any region
        // What the customer asked for, and the terms fixed at posting
        uint80 maxPricePerGpuHour; // postJob refuses 2^80 or more
        uint32 duration;
        uint16 gpuCount; // postJob refuses more than 65,535
        uint16 minVramGb; // likewise
        uint16 minReputationBps;
        uint16 holdbackBps;
        uint16 feeBps; // protocol fee, fixed at posting
        uint16 keeperBountyBps; // keeper's share of a failure slash, fixed at posting
        uint24 resultGrace; // time after the lease to submit a result, fixed at posting (at most 7 days)
        uint24 challengeWindow; // time to challenge a result, fixed at posting (at most 14 days)
        // What a bid locks, fixed at posting
        uint96 collateral; // CMP priced at posting (sealed: at least `bidBond`), locked by the best bidder and each commitment
        uint96 gpuStake; // CMP locked per bid beside the collateral: `minStakePerGpu` (whole CMP) at posting times the GPUs
        bool verification;
        bool hasRegion; // the job names a region
        // The best bid, and the count an open bid or a reveal moves with it
        address provider; // best bidder while bidding, then the winner
        // What the best bidder would be paid if the auction closed now, then the clearing price:
        // open, the best bid; sealed, the second-lowest revealed price, or the max price while
        // only one bid is revealed.
        uint80 price;
        uint16 bidCount; // bids placed (open) or revealed (sealed); stays at 65,535 past it
        uint40 bestBidBlock; // sealed: the best bid's commitment's block (for ties); open: 0
        uint80 bestBid; // sealed: the best bid's own revealed price (0 until the first reveal); open: 0
        // The lease's clock
        uint32 leaseStart;
        uint32 leaseEnd; // set when the lease stops early (result, cancel, failure)
        uint32 challengeEnd; // result challenge window closes
        uint32 paidUntil; // the provider's last paying claim: the pay released so far is what had accrued then, less the holdback
        uint96 verificationFee; // credits in escrow for the verifier's work, fixed at posting
    }

    /// @notice What the market holds for a job and what it has paid its provider, derived from
    ///         the job (`JobMarket.fundsOf`).
    /// @param escrow Credits held for the job: while bidding the lease at the max price, during
    ///        the lease the lease at the clearing price less the pay released, plus the
    ///        verification fee in both; none once the job has ended.
    /// @param paidGross Credits released to the provider so far, fee included.
    struct Funds {
        uint256 escrow;
        uint256 paidGross;
    }

    /// @notice What a provider offers of one GPU model, in one slot: the stake it set aside for
    ///         that model's jobs (`provisioned`, moved out of its free stake in the ledger), the
    ///         part of it the jobs it bids on hold (`locked`), its GPUs of the model and how many
    ///         of them those jobs hold (`reserved`), and their memory. A bid reads and writes only
    ///         the bidder's offer and the outbid bidder's (docs/lock-book.md).
    ///         Invariants: `locked <= provisioned`, `reserved <= gpus`, and the ledger's provision
    ///         of a provider is the sum of its offers' `provisioned`, to the wei.
    struct Offer {
        uint96 provisioned;
        uint96 locked;
        uint16 gpus;
        uint16 reserved;
        uint32 vramGb;
    }

    /// @notice A sealed bid's commitment, in one slot. Its bond is the job's `collateral`
    ///         (fixed at posting, at least `bidBond` for a sealed job), so it is not stored.
    ///         The hash is kept to its first 24 bytes: finding two bids with the same 192-bit
    ///         prefix (to choose the price after the others reveal) takes about 2^96 hashes.
    struct Commitment {
        bytes24 hash; // the first 24 bytes of keccak256(abi.encode(jobId, bidder, price, salt))
        uint40 committedAtBlock;
        bool revealed; // revealed, released or forfeited
    }

    // Auction events and errors (emitted and raised by the market and by its `JobAuctions` module,
    // which runs on the market's storage by DELEGATECALL).
    event BidPlaced(uint256 indexed jobId, address indexed provider, uint256 pricePerGpuHour, uint256 collateral);
    event BidCommitted(uint256 indexed jobId, address indexed provider, bytes32 commitment);
    event BidRevealed(uint256 indexed jobId, address indexed provider, uint256 pricePerGpuHour, bool isBest);
    event BondReleased(uint256 indexed jobId, address indexed provider);
    event BondForfeited(uint256 indexed jobId, address indexed provider, uint256 amount);
    /// @notice A provider set its offer of `gpuModel`. What moves an offer otherwise follows
    ///         from the market's events: each bid, commitment, reveal, bond, cancellation and
    ///         outcome locks or releases the job's `lock` (logged by `JobPosted`) and its GPUs,
    ///         and a slash (`JobFailed.slashed`, `BondForfeited.amount`) lowers `provisioned`.
    ///         An offer without provision cannot be bid with (indexers may skip it).
    event OfferSet(address indexed provider, bytes32 indexed gpuModel, uint256 gpus, uint256 vramGb, uint256 provisioned);
    /// @notice A job or an offer named `gpuModel` for the first time: jobs, offers and reference
    ///         prices keep it as `modelId` (`JobMarket.gpuModelId`).
    event GpuModelAdded(bytes32 indexed gpuModel, uint256 modelId);
    /// @notice Pay released to the provider of job `jobId` (by a claim, a settlement or a
    ///         cancellation): `net` sent, `fee` accrued for the treasury.
    event EarningsClaimed(uint256 indexed jobId, address indexed provider, uint256 net, uint256 fee);
    /// @notice The customer cancelled job `jobId`: `providerGross` of pay released to its
    ///         provider (fee included), `refund` back to the customer.
    event JobCancelled(uint256 indexed jobId, uint256 providerGross, uint256 refund);

    error UnknownJob(uint256 jobId);
    error NotCustomer(address caller);
    error LeaseOver(uint256 leaseEnd);
    error WrongStatus(uint256 jobId, JobStatus status);
    error WrongAuctionKind(uint256 jobId, AuctionKind kind);
    error BiddingClosed(uint256 biddingEnd);
    error ZeroPrice();
    error BidAboveMaxPrice(uint256 price, uint256 maxPrice);
    error BidNotLowEnough(uint256 price, uint256 maxAllowed);
    error SelfBid();
    error GpuModelNotOffered(bytes32 gpuModel);
    error NotEnoughProvision(uint256 have, uint256 need);
    error InsufficientCapacity(uint256 available, uint256 requested);
    error InvalidOffer();
    error OfferInUse(uint256 locked, uint256 reserved);
    error InsufficientVram(uint32 have, uint32 need);
    error WrongRegion(bytes32 have, bytes32 need);
    error ReputationTooLow(uint16 have, uint16 need);
    error AlreadyCommitted(uint256 jobId, address provider);
    error NoCommitment(uint256 jobId, address provider);
    error InvalidReveal();
    error RevealNotOpen(uint256 opensAt, uint256 closesAt);
    error RevealStillOpen(uint256 revealEnd);

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
    /// @return slashed CMP taken from the provider (paid to `recipients` in order, the rest burned).
    function resolveDispute(
        uint256 jobId,
        bool providerFault,
        address[] calldata recipients,
        uint256[] calldata amounts
    ) external returns (uint256 slashed);
}
