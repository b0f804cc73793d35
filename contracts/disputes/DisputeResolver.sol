// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Governed} from "../common/Governed.sol";
import {IComputeToken} from "../interfaces/IComputeToken.sol";
import {IDisputeResolver} from "../interfaces/IDisputeResolver.sol";
import {IDrawConsumer} from "../interfaces/IDrawConsumer.sol";
import {IJobMarket} from "../interfaces/IJobMarket.sol";
import {IMarketParameters} from "../interfaces/IMarketParameters.sol";
import {IProviderRegistry} from "../interfaces/IProviderRegistry.sol";
import {IRewardsDistributor} from "../interfaces/IRewardsDistributor.sol";
import {IStakingLedger} from "../interfaces/IStakingLedger.sol";

/// @title DisputeResolver
/// @notice Verification and disputes with Gensyn's roles: the customer submits, the provider
///         solves, a stake-drawn verifier checks, anyone staked may blow the whistle, and a
///         jury of drawn verifiers decides by commit-reveal vote.
/// @dev Money held here: challenge bonds in CRD while a dispute runs, and the majority jurors'
///      shares until each claims its own (`claimJuryReward`): invariant, to the wei, CRD held =
///      open bonds + unclaimed CRD shares, CMP held = unclaimed CMP shares. The verifiers' CMP
///      stake is in the staking ledger (the `ProviderRegistry`). Every dispute ends: after the reveal period anyone may `resolve`; without a
///      quorum or with a tie the arbiter decides until `appealEnd`, after which anyone may
///      `resolveByDefault` (no decision: the bond goes back to the challenger and the job settles).
///      Payouts on provider fault: the provider's collateral is slashed; `juryRewardBps` of it
///      goes to the majority jurors, `finderBps` to the verifier if it rejected the result, the
///      rest to the customer: the customer's compensation depends on the verdict and the
///      verifier's attestation, never on who challenged. The challenger's bond comes back. A
///      verifier that approved the result (before or after the challenge) loses
///      `verifierSlashBps` of `seatStake`; in a whistleblower challenge (against a result the
///      verifier approved) the whistleblower gets `jackpotBps` of that slash, at most the
///      provider's collateral (so a provider's own second address never profits from blowing
///      the whistle on its own result), and the rest is burned.
///      On no fault: the bond goes `juryRewardBps` to the majority jurors and the rest to the
///      provider; a verifier that rejected the result loses `verifierSlashBps` to the provider.
///      Every penalty is a share of one seat's stake (`seatStake`), never of the verifier's whole
///      stake: draws are by stake, so a large verifier is drawn more often, not fined more each time.
///      Absent and minority jurors lose `jurorPenaltyBps` of it, burned: never paid to
///      the majority, so a majority bought with stake (a captured jury) takes nothing from the
///      honest minority it outvotes, and splitting stake over many seats earns no penalties. Majority jurors are paid by pull: the verdict records
///      one equal share per seat, each juror claims its seats' shares (the CMP rounding remainder is burned, the CRD
///      one stays with the provider), so `resolve` makes no transfer per juror.
///      Draws (the verifier, the jury) are queued in the ledger by the request and made by the
///      ledger's `processDraws` from a later block's hash with the stake as it stood at the
///      request, calling back `completeDraw` here (see `StakingLedger`):
///      a challenged dispute is `Drawing` until its jury is drawn.
///      Draws exclude the job's customer and provider, the challenger and the verifier exactly,
///      whatever their stake. A jury is `jurySize` seats drawn with replacement (as Kleros draws):
///      a verifier drawn for several seats commits and reveals once, and its vote, penalties and
///      shares count once per seat, so the seats a stake expects, and what they earn and risk,
///      do not depend on how many identities hold it. No jury only when no other verifier has
///      stake. Jurors earn no emission (only the pools above); a verifier's
///      approval earns a verifier unit from the rewards distributor when the job settles.
contract DisputeResolver is Governed, ReentrancyGuardTransient, IDisputeResolver, IDrawConsumer {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    uint256 private constant BPS = 10_000;
    uint256 private constant MAX_JURY = 9;
    /// @dev Gas an approval keeps for the distributor's record (one fresh slot and an event: about 30,000).
    uint256 private constant REPORT_GAS = 100_000;

    /// @notice Decides disputes the jury could not.
    bytes32 public constant ARBITER_ROLE = keccak256("ARBITER_ROLE");

    struct Verification {
        address verifier;
        uint64 deadline;
        Attestation attestation;
        bool requested; // a draw was queued (the verifier is set when it is made)
    }

    struct Dispute {
        // slot 0
        address challenger;
        uint64 commitEnd;
        DisputeStatus status;
        bool whistleblower;
        bool providerFault;
        uint8 jurorCount;
        bool byJury; // decided by a majority of the jury, whose rewards wait to be claimed
        // slot 1
        uint64 revealEnd;
        uint64 appealEnd;
        uint128 bond;
        // slot 2
        uint8 votesFault;
        uint8 votesNoFault;
        uint112 tokenShare; // CMP each majority seat may claim
        uint112 creditShare; // CRD each majority seat may claim
        // slot 3: the jury, packed. Seat i is held by the verifier at ledger slot
        // `uint16(jurorSlots >> 16·i)` (a verifier may hold several); bit i of each bitmap says
        // whether the seat's vote was revealed, whether it was that the provider was at fault, and
        // whether the seat's majority share was claimed (a juror's seats move together).
        uint144 jurorSlots;
        uint16 revealed;
        uint16 votedFault;
        uint16 claimed;
    }

    /// @notice A juror's vote, as `voteOf` shows it (stored packed: the commitment at the juror's
    ///         first seat, the rest as bits of the dispute record; it counts once per seat).
    struct Vote {
        bytes32 commitment;
        bool revealed;
        bool providerFault;
        bool claimed; // its majority share was paid
    }

    /// @notice CMP: the juror pools are paid in it.
    IComputeToken public immutable token;
    /// @notice The market whose jobs are disputed.
    IJobMarket public immutable market;
    /// @notice Credits, in which challenge bonds are paid.
    IERC20 public immutable credits;
    /// @notice Providers and the staking ledger of all stake (draws, verifier slashes).
    IProviderRegistry public immutable registry;

    /// @notice Bond a challenger posts, in CRD (default 10).
    uint128 public challengeBond = 10 ether;
    /// @notice Seats on a jury (default 5, 1 to 9), drawn with replacement.
    uint8 public jurySize = 5;
    /// @notice Time the drawn verifier has to attest (default 6 h, 10 min to 1 day; keep it
    ///         shorter than the market's challenge window).
    uint32 public attestWindow = 6 hours;
    /// @notice Jurors' commit period (default 1 day) and reveal period (default 1 day).
    uint32 public voteCommitPeriod = 1 days;
    uint32 public voteRevealPeriod = 1 days;
    /// @notice Time the arbiter has once a jury fails (default 2 days).
    uint32 public appealWindow = 2 days;
    /// @notice Share of `seatStake` an absent or minority juror loses per seat (default 5%).
    uint16 public jurorPenaltyBps = 500;
    /// @notice Share of `seatStake` a verifier loses when absent (default 5%).
    uint16 public absencePenaltyBps = 500;
    /// @notice Share of `seatStake` a verifier loses when the dispute proves its attestation wrong (default 10%).
    uint16 public verifierSlashBps = 1_000;
    /// @notice Share of a contradicted verifier's slash paid to the whistleblower (default 50%,
    ///         at most the slashed collateral); the rest is burned.
    uint16 public jackpotBps = 5_000;
    /// @notice Share of the slashed collateral for the verifier whose rejection the verdict upheld (default 20%).
    uint16 public finderBps = 2_000;
    /// @notice Share of the slashed collateral or the forfeited bond for the majority jurors (default 10%).
    uint16 public juryRewardBps = 1_000;
    /// @notice The stake every draw puts at risk, a verifier's assignment as a juror's seat
    ///         (default 1,000 CMP, at most the ledger's `MIN_VERIFIER_STAKE`): penalties are
    ///         shares of it, whatever the verifier's own stake (all of it at most), as Kleros
    ///         locks `minStake × alpha` per draw. Draws are by stake, so a penalty on a verifier's
    ///         whole stake would make its exposure grow with the square of its stake, and
    ///         splitting the stake over identities would pay.
    uint128 public seatStake = 1_000 ether;

    /// @notice Told of verifiers' approvals (a required immutable peer).
    IRewardsDistributor public immutable rewards;

    mapping(uint256 => Verification) private _verifications;
    mapping(uint256 => Dispute) private _disputes;
    /// @dev Each juror's sealed vote, by the index of its first seat in the jury.
    mapping(uint256 => bytes32[MAX_JURY]) private _commitments;

    event VerifierAssigned(uint256 indexed jobId, address indexed verifier, uint256 deadline);
    event VerificationLapsed(uint256 indexed jobId);
    event Attested(uint256 indexed jobId, address indexed verifier, bool resultOk);
    event VerifierAbsent(uint256 indexed jobId, address indexed verifier, uint256 penalty);
    event Challenged(
        uint256 indexed jobId, address indexed challenger, string reason, uint256 bond, bool whistleblower
    );
    event JuryDrawn(uint256 indexed jobId, address[] jurors, uint256 commitEnd, uint256 revealEnd);
    event VoteCommitted(uint256 indexed jobId, address indexed juror);
    event VoteRevealed(uint256 indexed jobId, address indexed juror, bool providerFault);
    event AwaitingArbiter(uint256 indexed jobId, uint256 appealEnd);
    event DisputeResolved(uint256 indexed jobId, bool providerFault, bool byJury, bool byDefault);
    /// @notice An absent or minority juror's penalty, once per seat it held.
    event JurorPenalized(uint256 indexed jobId, address indexed juror, uint256 amount);
    /// @notice The majority jurors of a dispute may claim `tokenShare` CMP and `creditShare` CRD
    ///         per seat; `majority` counts the majority's seats.
    event JuryRewardsOpened(uint256 indexed jobId, uint256 majority, uint256 tokenShare, uint256 creditShare);
    /// @notice A majority juror claimed its shares (one per seat).
    event JurorRewarded(uint256 indexed jobId, address indexed juror, uint256 tokens, uint256 credits);
    event JackpotPaid(uint256 indexed jobId, address indexed whistleblower, uint256 amount, uint256 burned);
    event VerificationExcused(uint256 indexed jobId, address indexed verifier);
    /// @notice The rewards distributor refused to record job `jobId`'s approval; the attestation stands.
    event VerificationNotRecorded(uint256 indexed jobId, address indexed verifier);

    error VerificationNotRequested(uint256 jobId);
    error VerifierAlreadyAssigned(uint256 jobId);
    error VerificationTooLate(uint256 jobId, uint256 challengeEnd);
    error NotAssignedVerifier(address caller);
    error AttestationClosed(uint256 deadline);
    error AttestationStillOpen(uint256 deadline);
    error AlreadyAttested(uint256 jobId);
    error NotEntitledToChallenge(address caller);
    error AlreadyDisputed(uint256 jobId);
    error WrongDisputeStatus(uint256 jobId, DisputeStatus status);
    error NotJuror(address caller);
    error CommitClosed(uint256 commitEnd);
    error RevealNotOpen(uint256 opensAt, uint256 closesAt);
    error VoteAlreadyCommitted(address juror);
    error NoVoteCommitted(address juror);
    error InvalidVoteReveal();
    error VotingNotOver(uint256 revealEnd);
    error AppealWindowOver(uint256 appealEnd);
    error AppealWindowOpen(uint256 appealEnd);
    error SharesTooLarge(uint256 finderBps, uint256 juryRewardBps);
    error NotLedger(address caller);
    error NoJuryReward(uint256 jobId, address juror);
    /// @notice Too little gas left to report the approval to the distributor.
    error GasTooLowForReport(uint256 left, uint256 needed);

    /// @param admin Governance (also the first arbiter).
    /// @param rewards_ The rewards distributor told of verifiers' approvals (its `RESOLVER_ROLE`).
    constructor(
        address admin,
        IComputeToken token_,
        IERC20 credits_,
        IJobMarket market_,
        IProviderRegistry registry_,
        IRewardsDistributor rewards_
    ) Governed(admin) {
        if (
            address(token_) == address(0) || address(credits_) == address(0) || address(market_) == address(0)
                || address(registry_) == address(0) || address(rewards_) == address(0)
        ) revert ZeroAddress();
        rewards = rewards_;
        token = token_;
        credits = credits_;
        market = market_;
        registry = registry_;
        _grantRole(ARBITER_ROLE, admin);
    }

    // ================================================================== verification

    /// @notice Asks for the verifier of a job that asked for verification, once its result is in.
    ///         Anyone may call. The draw is queued in the ledger: it is made by its `processDraws` from the hash of
    ///         the block `drawDelay` blocks ahead, stake-weighted over the stake as it stood now,
    ///         never the job's own parties (`VerifierAssigned`). The verifier's whole
    ///         `attestWindow` must end inside the market's challenge window (a rejection opens a
    ///         dispute, which the market accepts only there): checked now and again when the draw
    ///         is made (`VerificationLapsed` when it no longer fits or nobody else has stake).
    /// @return targetBlock The block whose hash will decide the draw.
    function requestVerifier(uint256 jobId) external returns (uint256 targetBlock) {
        IJobMarket.JobParties memory job = market.jobParties(jobId);
        if (!job.verification || job.status != IJobMarket.JobStatus.ResultSubmitted) {
            revert VerificationNotRequested(jobId);
        }
        if (block.timestamp + attestWindow >= job.challengeEnd) revert VerificationTooLate(jobId, job.challengeEnd);
        Verification storage v = _verifications[jobId];
        if (v.requested) revert VerifierAlreadyAssigned(jobId);
        v.requested = true;
        targetBlock = _ledger().requestDraw(IStakingLedger.EntryKind.VerifierDraw, jobId);
    }

    /// @notice The assigned verifier's verdict on the result, before its deadline. A rejection
    ///         opens a dispute with the verifier as challenger, its stake standing as the bond;
    ///         when somebody already challenged the result, the rejection is recorded and the
    ///         open dispute decides (the verifier did its duty and is not absent). Once a verdict
    ///         was given, the attestation is moot and reverts (a verifier whose window was still
    ///         open then is excused, see `VerificationExcused`). An approval earns a verifier unit
    ///         when the job settles (none if it never does).
    function attest(uint256 jobId, bool resultOk) external nonReentrant {
        Verification storage v = _verifications[jobId];
        if (msg.sender != v.verifier) revert NotAssignedVerifier(msg.sender);
        DisputeStatus status = _disputes[jobId].status;
        if (status == DisputeStatus.Resolved) revert WrongDisputeStatus(jobId, status);
        if (v.attestation != Attestation.None) revert AlreadyAttested(jobId);
        if (block.timestamp > v.deadline) revert AttestationClosed(v.deadline);
        v.attestation = resultOk ? Attestation.ResultOk : Attestation.ResultBad;
        emit Attested(jobId, msg.sender, resultOk);
        if (resultOk) {
            // The distributor cannot block an attestation (its verifier would be slashed as absent);
            // below `REPORT_GAS` left the attestation reverts rather than skip the report.
            if (gasleft() < REPORT_GAS) revert GasTooLowForReport(gasleft(), REPORT_GAS);
            try rewards.recordVerification(jobId, msg.sender) {}
            catch {
                emit VerificationNotRecorded(jobId, msg.sender);
            }
        }
        if (!resultOk && status == DisputeStatus.None) {
            _openDispute(jobId, msg.sender, "verifier rejected the result", 0);
        }
    }

    /// @notice Slashes a verifier that did not attest in time (`absencePenaltyBps` of `seatStake`,
    ///         to the customer). Anyone.
    function slashAbsentVerifier(uint256 jobId) external nonReentrant {
        Verification storage v = _verifications[jobId];
        address verifier = v.verifier;
        if (verifier == address(0)) revert VerificationNotRequested(jobId);
        if (v.attestation != Attestation.None) revert AlreadyAttested(jobId);
        if (block.timestamp <= v.deadline) revert AttestationStillOpen(v.deadline);
        v.attestation = Attestation.Absent;
        uint256 penalty = _slashVerifier(verifier, absencePenaltyBps, market.jobParties(jobId).customer);
        emit VerifierAbsent(jobId, verifier, penalty);
    }

    // ================================================================== disputes

    /// @notice Challenges a submitted result within the market's challenge window, posting
    ///         `challengeBond` credits (approve this contract first). The customer or any staked
    ///         party (verifier or provider with stake) may challenge. Against a result the
    ///         verifier approved, this is a whistleblower challenge. The jury is drawn later
    ///         (the ledger's `processDraws`, from the hash of the block `drawDelay` ahead); the vote's periods
    ///         start when it is.
    function challenge(uint256 jobId, string calldata reason) external nonReentrant {
        IJobMarket.JobParties memory job = market.jobParties(jobId);
        if (msg.sender != job.customer && _ledger().activeStakeOf(msg.sender) == 0 && registry.stakeOf(msg.sender) == 0) {
            revert NotEntitledToChallenge(msg.sender);
        }
        if (msg.sender == job.provider) revert NotEntitledToChallenge(msg.sender);
        uint128 bond = challengeBond;
        if (bond != 0) credits.safeTransferFrom(msg.sender, address(this), bond);
        _openDispute(jobId, msg.sender, reason, bond);
    }

    /// @notice A juror's sealed vote: `keccak256(abi.encode(jobId, juror, providerFault, salt))`.
    function commitVote(uint256 jobId, bytes32 commitment) external {
        Dispute storage d = _votingDispute(jobId);
        if (block.timestamp >= d.commitEnd) revert CommitClosed(d.commitEnd);
        bytes32[MAX_JURY] storage commitments = _commitments[jobId];
        uint256 i = _jurorIndex(d, msg.sender);
        if (commitments[i] != bytes32(0)) revert VoteAlreadyCommitted(msg.sender);
        commitments[i] = commitment;
        emit VoteCommitted(jobId, msg.sender);
    }

    /// @notice Reveals a vote between `commitEnd` and `revealEnd`.
    function revealVote(uint256 jobId, bool providerFault, bytes32 salt) external {
        Dispute storage d = _votingDispute(jobId);
        if (block.timestamp < d.commitEnd || block.timestamp >= d.revealEnd) {
            revert RevealNotOpen(d.commitEnd, d.revealEnd);
        }
        uint256 i = _jurorIndex(d, msg.sender);
        bytes32 commitment = _commitments[jobId][i];
        if (commitment == bytes32(0) || d.revealed & (1 << i) != 0) revert NoVoteCommitted(msg.sender);
        if (keccak256(abi.encode(jobId, msg.sender, providerFault, salt)) != commitment) {
            revert InvalidVoteReveal();
        }
        (uint16 seats, uint8 count) = _seats(d, i); // one vote per seat the juror holds
        d.revealed |= seats;
        if (providerFault) (d.votedFault, d.votesFault) = (d.votedFault | seats, d.votesFault + count);
        else d.votesNoFault += count;
        emit VoteRevealed(jobId, msg.sender, providerFault);
    }

    /// @notice Closes the vote after `revealEnd` (anyone): a majority of the jury's seats,
    ///         revealed, decides; otherwise the dispute waits for the arbiter until `appealEnd`.
    function resolve(uint256 jobId) external nonReentrant {
        Dispute storage d = _votingDispute(jobId);
        if (block.timestamp < d.revealEnd) revert VotingNotOver(d.revealEnd);
        (uint256 fault, uint256 noFault) = (d.votesFault, d.votesNoFault);
        uint256 quorum = uint256(d.jurorCount) / 2 + 1;
        if (fault + noFault >= quorum && fault != noFault) {
            _apply(jobId, d, fault > noFault, true, false);
        } else {
            _awaitArbiter(jobId, d);
        }
    }

    /// @notice The arbiter's decision on a dispute the jury could not decide, before `appealEnd`.
    function arbitrate(uint256 jobId, bool providerFault) external onlyRole(ARBITER_ROLE) nonReentrant {
        Dispute storage d = _disputes[jobId];
        if (d.status != DisputeStatus.AwaitingArbiter) revert WrongDisputeStatus(jobId, d.status);
        if (block.timestamp >= d.appealEnd) revert AppealWindowOver(d.appealEnd);
        _apply(jobId, d, providerFault, false, false);
    }

    /// @notice Ends a dispute nobody decided once `appealEnd` passed (anyone): the challenger's
    ///         bond comes back and the job settles as if unchallenged.
    function resolveByDefault(uint256 jobId) external nonReentrant {
        Dispute storage d = _disputes[jobId];
        if (d.status != DisputeStatus.AwaitingArbiter) revert WrongDisputeStatus(jobId, d.status);
        if (block.timestamp < d.appealEnd) revert AppealWindowOpen(d.appealEnd);
        _apply(jobId, d, false, false, true);
    }

    /// @notice Pays the caller its shares as a juror who voted with the majority of a dispute
    ///         its jury decided: CMP (the jury's cut of a slashed collateral) and CRD (the jury's cut of a forfeited bond), one
    ///         share per seat it holds. Once per juror and dispute; a share never expires. Reverts `NoJuryReward` otherwise.
    /// @return tokens CMP paid.
    /// @return crd CRD paid.
    function claimJuryReward(uint256 jobId) external nonReentrant returns (uint256 tokens, uint256 crd) {
        Dispute storage d = _disputes[jobId];
        uint16 seats;
        (tokens, crd, seats) = _juryReward(d, msg.sender);
        if (tokens == 0 && crd == 0) revert NoJuryReward(jobId, msg.sender);
        d.claimed |= seats;
        emit JurorRewarded(jobId, msg.sender, tokens, crd);
        if (tokens != 0) IERC20(address(token)).safeTransfer(msg.sender, tokens);
        if (crd != 0) credits.safeTransfer(msg.sender, crd);
    }

    // ================================================================== views

    /// @notice What `juror` may still claim for job `jobId`'s dispute (`claimJuryReward`): a
    ///         share per seat when its jury decided, it voted with the majority and has not claimed.
    function juryRewardOf(uint256 jobId, address juror) public view returns (uint256 tokens, uint256 crd) {
        (tokens, crd,) = _juryReward(_disputes[jobId], juror);
    }

    /// @notice The verification of job `jobId`.
    function verificationOf(uint256 jobId) external view returns (Verification memory) {
        return _verifications[jobId];
    }

    /// @notice The dispute on job `jobId`.
    function disputeOf(uint256 jobId) external view returns (Dispute memory) {
        return _disputes[jobId];
    }

    /// @notice The jury's seats for job `jobId`: a juror drawn for several seats appears once per
    ///         seat (it commits and reveals once, its vote counts once per seat).
    function jurorsOf(uint256 jobId) public view returns (address[] memory jurors) {
        Dispute storage d = _disputes[jobId];
        uint256 n = d.jurorCount;
        uint256 packed = d.jurorSlots;
        jurors = new address[](n);
        IStakingLedger ledger = _ledger();
        for (uint256 i; i < n; ++i) {
            jurors[i] = ledger.verifierAtSlot(uint16(packed >> (16 * i)));
        }
    }

    /// @notice A juror's vote on job `jobId` (all zero for an account not on its jury).
    function voteOf(uint256 jobId, address juror) external view returns (Vote memory vote) {
        Dispute storage d = _disputes[jobId];
        (bool found, uint256 i) = _findJuror(d, juror);
        if (!found) return vote;
        uint256 bit = 1 << i;
        vote = Vote(_commitments[jobId][i], d.revealed & bit != 0, d.votedFault & bit != 0, d.claimed & bit != 0);
    }

    /// @notice The commitment a juror must post for `providerFault` and `salt`.
    function voteCommitment(uint256 jobId, address juror, bool providerFault, bytes32 salt)
        external
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(jobId, juror, providerFault, salt));
    }

    // ================================================================== governance

    /// @notice Sets `challengeBond` in CRD wei within [0, 1,000,000 CRD].
    function setChallengeBond(uint256 v) external onlyRole(DEFAULT_ADMIN_ROLE) {
        challengeBond = uint128(_checked("challengeBond", challengeBond, v, 0, 1_000_000 ether));
    }

    /// @notice Sets `jurySize` within [1, 9].
    function setJurySize(uint256 v) external onlyRole(DEFAULT_ADMIN_ROLE) {
        jurySize = uint8(_checked("jurySize", jurySize, v, 1, MAX_JURY));
    }

    /// @notice Sets `attestWindow` in seconds within [10 min, 1 day], and shorter than the
    ///         market's `challengeWindow` (else no verifier could ever be drawn in time).
    function setAttestWindow(uint256 v) external onlyRole(DEFAULT_ADMIN_ROLE) {
        uint256 below = IMarketParameters(address(market)).challengeWindow();
        uint256 most = below <= 1 days ? below - 1 : 1 days;
        attestWindow = uint32(_checked("attestWindow", attestWindow, v, 10 minutes, most));
    }

    /// @notice Sets `voteCommitPeriod` in seconds within [1 h, 7 days], keeping `slashDelay`
    ///         below the ledger's `unbondingPeriod`.
    function setVoteCommitPeriod(uint256 v) external onlyRole(DEFAULT_ADMIN_ROLE) {
        uint256 most = _room(slashDelay() - voteCommitPeriod, 7 days);
        voteCommitPeriod = uint32(_checked("voteCommitPeriod", voteCommitPeriod, v, 1 hours, most));
    }

    /// @notice Sets `voteRevealPeriod` in seconds within [1 h, 7 days], keeping `slashDelay`
    ///         below the ledger's `unbondingPeriod`.
    function setVoteRevealPeriod(uint256 v) external onlyRole(DEFAULT_ADMIN_ROLE) {
        uint256 most = _room(slashDelay() - voteRevealPeriod, 7 days);
        voteRevealPeriod = uint32(_checked("voteRevealPeriod", voteRevealPeriod, v, 1 hours, most));
    }

    /// @notice Sets `appealWindow` in seconds within [1 h, 30 days], keeping `slashDelay`
    ///         below the ledger's `unbondingPeriod`.
    function setAppealWindow(uint256 v) external onlyRole(DEFAULT_ADMIN_ROLE) {
        uint256 most = _room(slashDelay() - appealWindow, 30 days);
        appealWindow = uint32(_checked("appealWindow", appealWindow, v, 1 hours, most));
    }

    /// @notice Sets `jurorPenaltyBps` within [0, 5000].
    function setJurorPenaltyBps(uint256 v) external onlyRole(DEFAULT_ADMIN_ROLE) {
        jurorPenaltyBps = uint16(_checked("jurorPenaltyBps", jurorPenaltyBps, v, 0, 5_000));
    }

    /// @notice Sets `seatStake` in CMP wei within [1 CMP, the ledger's `MIN_VERIFIER_STAKE`].
    function setSeatStake(uint256 v) external onlyRole(DEFAULT_ADMIN_ROLE) {
        seatStake = uint128(_checked("seatStake", seatStake, v, 1 ether, _ledger().MIN_VERIFIER_STAKE()));
    }

    /// @notice Sets `absencePenaltyBps` within [0, 5000].
    function setAbsencePenaltyBps(uint256 v) external onlyRole(DEFAULT_ADMIN_ROLE) {
        absencePenaltyBps = uint16(_checked("absencePenaltyBps", absencePenaltyBps, v, 0, 5_000));
    }

    /// @notice Sets `verifierSlashBps` within [0, 10000].
    function setVerifierSlashBps(uint256 v) external onlyRole(DEFAULT_ADMIN_ROLE) {
        verifierSlashBps = uint16(_checked("verifierSlashBps", verifierSlashBps, v, 0, BPS));
    }

    /// @notice Sets `jackpotBps` (of a contradicted verifier's slash), `juryRewardBps` and
    ///         `finderBps` (of a slashed collateral), each within [0, 10000], the last two together
    ///         at most 10000.
    function setShares(uint256 jackpot, uint256 juryReward, uint256 finder) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (finder + juryReward > BPS) revert SharesTooLarge(finder, juryReward);
        jackpotBps = uint16(_checked("jackpotBps", jackpotBps, jackpot, 0, BPS));
        juryRewardBps = uint16(_checked("juryRewardBps", juryRewardBps, juryReward, 0, BPS));
        finderBps = uint16(_checked("finderBps", finderBps, finder, 0, BPS));
    }

    /// @inheritdoc IDrawConsumer
    /// @dev A verifier is drawn after the result and a dispute opens within the market's
    ///      challenge window; the jury then commits and reveals, and the arbiter may take its
    ///      appeal window: a drawn verifier's or juror's penalty comes at most this long after its
    ///      draw, when keepers call each step at its deadline (a late `resolve` extends it).
    function slashDelay() public view returns (uint256) {
        return uint256(IMarketParameters(address(market)).challengeWindow()) + voteCommitPeriod + voteRevealPeriod
            + appealWindow;
    }

    /// @notice The market's `challengeWindow` must lie in [min, max]: above `attestWindow`, and
    ///         short enough that `slashDelay` stays below the ledger's `unbondingPeriod` (the
    ///         market's setter asks; `IVerificationRecord`).
    function challengeWindowBounds() external view returns (uint256 min, uint256 max) {
        min = uint256(attestWindow) + 1;
        max = _room(uint256(voteCommitPeriod) + voteRevealPeriod + appealWindow, type(uint256).max);
    }

    // ================================================================== internals

    /// @dev The most one term of `slashDelay` may be, given the sum of the `others`, for the delay
    ///      to stay below the ledger's `unbondingPeriod`; at most `cap`.
    function _room(uint256 others, uint256 cap) private view returns (uint256) {
        uint256 unbonding = _ledger().unbondingPeriod();
        uint256 room = unbonding > others ? unbonding - others - 1 : 0;
        return room < cap ? room : cap;
    }

    function _ledger() private view returns (IStakingLedger) {
        return IStakingLedger(address(registry));
    }

    /// @dev Takes `bps` of `seatStake` from the verifier's stake in the ledger (all of it at most)
    ///      and pays it to `to`.
    function _slashVerifier(address verifier, uint256 bps, address to) private returns (uint256) {
        return _ledger().slashVerifier(verifier, bps * seatStake / BPS, to);
    }

    function _openDispute(uint256 jobId, address challenger, string memory reason, uint128 bond) private {
        Dispute storage d = _disputes[jobId];
        if (d.status != DisputeStatus.None) revert AlreadyDisputed(jobId);
        market.openDispute(jobId); // checks the status and the challenge window
        Verification storage v = _verifications[jobId];
        bool whistleblower = v.attestation == Attestation.ResultOk && challenger != v.verifier;
        (d.challenger, d.status, d.whistleblower, d.bond) = (challenger, DisputeStatus.Drawing, whistleblower, bond);
        emit Challenged(jobId, challenger, reason, bond, whistleblower);

        _ledger().requestDraw(IStakingLedger.EntryKind.JuryDraw, jobId); // target block: `DrawRequested`
    }

    /// @inheritdoc IDrawConsumer
    function completeDraw(IStakingLedger.EntryKind kind, uint256 jobId, uint256 seed) external {
        if (msg.sender != address(registry)) revert NotLedger(msg.sender);
        IJobMarket.JobParties memory job = market.jobParties(jobId);
        if (kind == IStakingLedger.EntryKind.VerifierDraw) _completeVerifierDraw(jobId, job, seed);
        else _completeJuryDraw(jobId, job, seed);
    }

    /// @dev The verifier, unless the job left review or the attestation window no longer fits.
    function _completeVerifierDraw(uint256 jobId, IJobMarket.JobParties memory job, uint256 seed) private {
        uint64 deadline = uint64(block.timestamp) + attestWindow;
        bool reviewable =
            job.status == IJobMarket.JobStatus.ResultSubmitted || job.status == IJobMarket.JobStatus.Disputed;
        address[] memory drawn;
        if (reviewable && deadline < job.challengeEnd && _disputes[jobId].status != DisputeStatus.Resolved) {
            address[] memory excluded = new address[](2);
            (excluded[0], excluded[1]) = (job.customer, job.provider);
            drawn = _ledger().drawVerifiers(seed, excluded, 1);
        }
        if (drawn.length == 0) {
            emit VerificationLapsed(jobId);
            return;
        }
        Verification storage v = _verifications[jobId];
        (v.verifier, v.deadline) = (drawn[0], deadline);
        emit VerifierAssigned(jobId, drawn[0], deadline);
    }

    /// @dev The jury: `jurySize` seats, drawn with replacement among the verifiers other than the
    ///      parties, the challenger and the verifier;
    ///      the vote's periods start now. No juror available: to the arbiter.
    function _completeJuryDraw(uint256 jobId, IJobMarket.JobParties memory job, uint256 seed) private {
        Dispute storage d = _disputes[jobId];
        address[] memory excluded = new address[](4);
        (excluded[0], excluded[1], excluded[2], excluded[3]) =
            (job.customer, job.provider, d.challenger, _verifications[jobId].verifier);
        address[] memory drawn = _ledger().drawVerifiers(seed, excluded, jurySize);
        d.jurorSlots = _packJury(drawn);
        uint64 commitEnd = uint64(block.timestamp) + voteCommitPeriod;
        uint64 revealEnd = commitEnd + voteRevealPeriod;
        (d.status, d.commitEnd, d.revealEnd, d.jurorCount) =
            (DisputeStatus.Voting, commitEnd, revealEnd, uint8(drawn.length));
        if (drawn.length == 0) {
            _awaitArbiter(jobId, d);
        } else {
            emit JuryDrawn(jobId, drawn, commitEnd, revealEnd);
        }
    }

    function _awaitArbiter(uint256 jobId, Dispute storage d) private {
        uint64 appealEnd = uint64(block.timestamp) + appealWindow;
        (d.status, d.appealEnd) = (DisputeStatus.AwaitingArbiter, appealEnd);
        emit AwaitingArbiter(jobId, appealEnd);
    }

    /// @dev Applies the outcome: jurors, verifier, bond, then the market (collateral, escrow, reputation).
    function _apply(uint256 jobId, Dispute storage d, bool fault, bool byJury, bool byDefault) private {
        (d.status, d.providerFault) = (DisputeStatus.Resolved, fault);
        emit DisputeResolved(jobId, fault, byJury, byDefault);
        Verification storage v = _verifications[jobId];
        if (v.verifier != address(0) && v.attestation == Attestation.None && block.timestamp <= v.deadline) {
            v.attestation = Attestation.Excused; // the verdict came first: nothing left to attest
            emit VerificationExcused(jobId, v.verifier);
        }
        // Absent and minority jurors lose stake, burned (not the majority's to take).
        uint256 majority = byJury ? (fault ? d.votesFault : d.votesNoFault) : 0;
        d.byJury = majority != 0;
        _penalizeJurors(jobId, d, fault, majority);
        (uint256 tokenPool, uint256 creditPool) = (0, 0);
        if (fault) tokenPool += _applyFault(jobId, d, majority != 0);
        else creditPool = _applyNoFault(jobId, d, majority, byDefault);
        _openJuryRewards(jobId, d, majority, tokenPool, creditPool);
    }

    /// @dev Provider at fault: collateral slashed to the customer, the jurors and a verifier that
    ///      rejected the result; a verifier that approved it slashed, a whistleblower's jackpot
    ///      out of that slash; the bond back. Returns the jurors' CMP.
    function _applyFault(uint256 jobId, Dispute storage d, bool hasMajority) private returns (uint256 juryTokens) {
        IJobMarket.JobParties memory job = market.jobParties(jobId);
        Verification storage v = _verifications[jobId];
        address challenger = d.challenger;
        uint256 collateral = job.collateral;
        uint256 finderCut = v.attestation == Attestation.ResultBad ? collateral * finderBps / BPS : 0;
        uint256 juryCut = hasMajority ? collateral * juryRewardBps / BPS : 0;
        address[] memory to = new address[](3);
        uint256[] memory amounts = new uint256[](3);
        (to[0], amounts[0]) = (job.customer, collateral - finderCut - juryCut);
        (to[1], amounts[1]) = (v.verifier, finderCut);
        (to[2], amounts[2]) = (address(this), juryCut);
        // The ledger pays a slash in order, each payee up to its amount (`StakingLedger._payOut`):
        // the jury's CMP is what the customer's and the finder's cuts leave of it.
        uint256 left = market.resolveDispute(jobId, true, to, amounts);
        left -= Math.min(amounts[0], left);
        if (to[1] != address(0)) left -= Math.min(finderCut, left);
        juryTokens = Math.min(juryCut, left);
        if (v.attestation == Attestation.ResultOk) {
            if (d.whistleblower) {
                uint256 slashed = _slashVerifier(v.verifier, verifierSlashBps, address(this));
                uint256 jackpot = Math.min(slashed * jackpotBps / BPS, collateral);
                if (jackpot != 0) IERC20(address(token)).safeTransfer(challenger, jackpot);
                if (slashed != jackpot) token.burn(slashed - jackpot);
                emit JackpotPaid(jobId, challenger, jackpot, slashed - jackpot);
            } else {
                _slashVerifier(v.verifier, verifierSlashBps, address(0)); // no whistleblower: the ledger burns it all
            }
        }
        if (d.bond != 0) credits.safeTransfer(challenger, d.bond);
    }

    /// @dev No fault: the job settles; the bond goes to the provider and the jurors (back to the
    ///      challenger when nobody decided); a verifier that rejected the result is slashed to
    ///      the provider unless nobody decided. Returns the jurors' CRD.
    function _applyNoFault(uint256 jobId, Dispute storage d, uint256 majority, bool byDefault)
        private
        returns (uint256 juryCredits)
    {
        address provider = market.jobParties(jobId).provider;
        address challenger = d.challenger;
        uint256 bond = d.bond;
        market.resolveDispute(jobId, false, new address[](0), new uint256[](0));
        if (byDefault) {
            if (bond != 0) credits.safeTransfer(challenger, bond);
            return 0;
        }
        // The jury's cut, rounded down to equal shares; the rounding stays with the provider.
        juryCredits = majority != 0 ? bond * juryRewardBps / BPS / majority * majority : 0;
        if (bond != 0) credits.safeTransfer(provider, bond - juryCredits);
        _slashContradictedVerifier(jobId, Attestation.ResultBad, provider);
    }

    /// @dev The verdict contradicts the verifier's attestation `wrong` (whether it attested before
    ///      or after the challenge, and whoever challenged): `verifierSlashBps` of `seatStake` to `to`.
    function _slashContradictedVerifier(uint256 jobId, Attestation wrong, address to) private {
        Verification storage v = _verifications[jobId];
        if (v.attestation == wrong) _slashVerifier(v.verifier, verifierSlashBps, to);
    }

    /// @dev Penalizes each seat whose juror did not reveal or voted with the minority: `jurorPenaltyBps` of
    ///      `seatStake` (all of the juror's stake at most, unbonding included), burned by the ledger.
    function _penalizeJurors(uint256 jobId, Dispute storage d, bool fault, uint256 majority) private {
        (uint256 n, uint256 packed, uint256 revealed, uint256 votedFault) =
            (d.jurorCount, d.jurorSlots, d.revealed, d.votedFault);
        IStakingLedger ledger = _ledger();
        for (uint256 i; i < n; ++i) {
            uint256 bit = 1 << i;
            bool hasRevealed = revealed & bit != 0;
            bool inMajority = majority != 0 && hasRevealed && (votedFault & bit != 0) == fault;
            if (inMajority || (majority == 0 && hasRevealed)) continue;
            address juror = ledger.verifierAtSlot(uint16(packed >> (16 * i)));
            emit JurorPenalized(jobId, juror, _slashVerifier(juror, jurorPenaltyBps, address(0)));
        }
    }

    /// @dev Opens the majority jurors' rewards for claiming (`claimJuryReward`): equal shares of
    ///      the CMP pool and of the CRD reward (a multiple of `majority`); the CMP pool's rounding
    ///      remainder is burned. Without a majority there are no pools (the outcome took no jury
    ///      cut: `_applyFault` and `_applyNoFault` return 0). O(1): nothing is paid out here,
    ///      whatever the jury's size.
    function _openJuryRewards(uint256 jobId, Dispute storage d, uint256 majority, uint256 tokenPool, uint256 creditPool)
        private
    {
        if (majority == 0) return;
        uint256 tokenShare = tokenPool / majority;
        uint256 creditShare = creditPool / majority;
        (d.tokenShare, d.creditShare) = (tokenShare.toUint112(), creditShare.toUint112());
        emit JuryRewardsOpened(jobId, majority, tokenShare, creditShare);
        uint256 dust = tokenPool - tokenShare * majority;
        if (dust != 0) token.burn(dust);
    }

    function _votingDispute(uint256 jobId) private view returns (Dispute storage d) {
        d = _disputes[jobId];
        if (d.status != DisputeStatus.Voting) revert WrongDisputeStatus(jobId, d.status);
    }

    /// @dev The jurors' ledger slots, 16 bits each (slots fit: `SortitionTree.CAPACITY` is 4,096).
    function _packJury(address[] memory drawn) private view returns (uint144 packed) {
        IStakingLedger ledger = _ledger();
        for (uint256 i; i < drawn.length; ++i) {
            packed |= uint144(ledger.verifierSlotOf(drawn[i]) << (16 * i));
        }
    }

    /// @dev `juror`'s unclaimed majority shares of the dispute (one per seat), and its seats'
    ///      bits in the jury's bitmaps.
    function _juryReward(Dispute storage d, address juror) private view returns (uint256, uint256, uint16) {
        if (d.status != DisputeStatus.Resolved || !d.byJury) return (0, 0, 0);
        (bool found, uint256 i) = _findJuror(d, juror);
        uint256 bit = 1 << i;
        if (!found || d.revealed & bit == 0 || d.claimed & bit != 0) return (0, 0, 0);
        if ((d.votedFault & bit != 0) != d.providerFault) return (0, 0, 0);
        (uint16 seats, uint8 count) = _seats(d, i);
        return (uint256(d.tokenShare) * count, uint256(d.creditShare) * count, seats);
    }

    /// @dev The seats of the juror at index `first` (its first): their bits and how many.
    function _seats(Dispute storage d, uint256 first) private view returns (uint16 seats, uint8 count) {
        (uint256 n, uint256 packed) = (d.jurorCount, d.jurorSlots);
        uint256 slot = uint16(packed >> (16 * first));
        for (uint256 j = first; j < n; ++j) {
            if (uint16(packed >> (16 * j)) == slot) (seats, count) = (seats | uint16(1 << j), count + 1);
        }
    }

    /// @dev `account`'s index on the dispute's jury; reverts `NotJuror` when it is not on it.
    function _jurorIndex(Dispute storage d, address account) private view returns (uint256 i) {
        bool found;
        (found, i) = _findJuror(d, account);
        if (!found) revert NotJuror(account);
    }

    /// @dev Whether `account` is on the dispute's jury, and its index there.
    function _findJuror(Dispute storage d, address account) private view returns (bool found, uint256 i) {
        uint256 n = d.jurorCount;
        if (n == 0) return (false, 0);
        uint256 slot = _ledger().verifierSlotOf(account);
        if (slot == 0) return (false, 0);
        uint256 packed = d.jurorSlots;
        for (; i < n; ++i) {
            if (uint16(packed >> (16 * i)) == slot) return (true, i);
        }
        return (false, 0);
    }
}
