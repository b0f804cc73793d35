// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Governed} from "../common/Governed.sol";
import {IComputeCredits} from "../interfaces/IComputeCredits.sol";
import {IComputeToken} from "../interfaces/IComputeToken.sol";
import {IPriceFeed} from "../interfaces/IPriceFeed.sol";

/// @title ComputeCredits (CRD)
/// @notice USD-pegged compute credits, 1 CRD = 1 USD, in the line of io.net's IOSD and Helium's
///         Data Credits: minted by burning CMP at the oracle price (less `mintSpreadBps`), redeemed
///         into newly minted CMP (less `redeemSpreadBps`, at most `redeemCapPerEpoch` CMP per
///         epoch). Credits are not a currency: they move only between a holder and an
///         allow-listed protocol contract (escrow, disputes).
/// @dev Oracle answers are checked on every use: older than `maxPriceAge`, non-positive, or moved
///      more than `maxPriceJumpBps` from the last accepted answer while that answer is younger
///      than `maxPriceAge`, each reverts with its own error. A real move larger than the jump
///      bound is accepted once the last accepted answer is `maxPriceAge` old. The first mint or
///      redemption to see a new answer (a later `updatedAt`, or the same second and a different
///      answer) accepts it: `PriceAccepted`. An older answer is checked but never prices a call.
///
///      No oracle arbitrage (SPEC §2). The contract keeps the last two accepted answers. Minting
///      uses the LOWER of them (fewer credits per CMP), redemption the HIGHER (fewer CMP per
///      credit); with only one answer accepted since the feed was set, both use it. Why: an
///      oracle update is public before it lands (and the jump bound lets it move the price by up
///      to `maxPriceJumpBps`), so at one price for both ways, minting just before a drop and
///      redeeming just after returned more CMP than it burned (+23% on a 20% drop, after
///      both spreads). Now whatever answer a mint used is still one of the last two accepted answers
///      after the next update, so the redemption's price is at least the mint's: a mint followed
///      by a redeem around any one accepted update returns less CMP than it burned, by at least
///      both spreads. The cost is a wider effective spread, by the size of the last move, until
///      the next accepted answer (a steady price, or a heartbeat answer, closes it again).
///      Residual: credits held across two or more accepted updates can come back as more CMP
///      when the price fell over them. That is a real market position (the holder bore the
///      price risk of every update in between, any of which could have gone the other way),
///      not a risk-free round trip around a foreseen update.
///      `pause()` stops minting only: redemption is a holder's way out and stays open, bounded by
///      the per-epoch cap (the circuit breaker).
contract ComputeCredits is ERC20, Governed, ReentrancyGuardTransient, IComputeCredits {
    using SafeCast for uint256;

    uint256 private constant BPS = 10_000;

    /// @notice The native token burned and minted here.
    IComputeToken public immutable token;
    /// @notice CMP/USD oracle (Chainlink shape).
    IPriceFeed public priceFeed;
    /// @notice 10 ** priceFeed.decimals(), cached; a uint96 so that it shares the spreads' slot
    ///         (a feed of more than 28 decimals is refused by SafeCast).
    uint96 public priceUnit;

    /// @notice Share of minted credits kept by the protocol (default 0.5%, at most 10%).
    uint16 public mintSpreadBps = 50;
    /// @notice Share of redeemed value kept by the protocol (default 1%, at most 10%).
    uint16 public redeemSpreadBps = 100;
    /// @notice Largest accepted price move within one `maxPriceAge` (default 20%, 1% to 100%).
    uint16 public maxPriceJumpBps = 2_000;
    /// @notice Oldest accepted oracle answer in seconds (default 1 h, 1 min to 2 days).
    uint32 public maxPriceAge = 1 hours;
    /// @notice Length of a redemption-cap epoch in seconds (default 1 day, 1 h to 30 days).
    uint32 public epochLength = 1 days;

    /// @notice Most CMP that redemptions may mint per epoch.
    uint256 public redeemCapPerEpoch;

    /// @notice Last accepted oracle answer (0 until one is accepted from the current feed).
    /// @dev `lastPrice`, `prevPrice` and `lastPriceUpdatedAt` share one slot: every accepted
    ///      answer writes them together. An answer above `type(uint96).max` reverts (SafeCast).
    uint96 public lastPrice;
    /// @notice The accepted answer before `lastPrice` (0 while at most one answer has been
    ///         accepted from the current feed). Mints use the lower of the two, redemptions the
    ///         higher.
    uint96 public prevPrice;
    /// @notice Update time of `lastPrice`, as the oracle reported it.
    uint64 public lastPriceUpdatedAt;

    /// @notice Epoch of the last redemption and the CMP redemptions minted in it (one slot).
    uint64 public redeemEpoch;
    uint192 public redeemedInEpoch;

    /// @notice Protocol contracts (escrow, disputes) that credits may move to and from.
    mapping(address => bool) public isProtocolContract;

    /// @notice Credits minted for burned CMP; `price` is the mint price used (the lower of the last
    ///         two accepted answers).
    event CreditsMinted(
        address indexed payer, address indexed to, uint256 tokensBurned, uint256 credits, uint256 price
    );
    /// @notice Credits redeemed for minted CMP; `price` is the redemption price used (the higher
    ///         of the last two accepted answers).
    event CreditsRedeemed(
        address indexed holder, address indexed to, uint256 credits, uint256 tokensMinted, uint256 price
    );
    /// @notice A new oracle answer was accepted.
    event PriceAccepted(uint256 price, uint256 updatedAt);
    /// @notice A contract was added to or removed from the protocol allow-list.
    event ProtocolContractSet(address indexed account, bool allowed);
    /// @notice The oracle changed.
    event PriceFeedSet(address indexed feed, uint256 priceUnit);

    /// @notice The oracle answer is older than `maxPriceAge`.
    error StalePrice(uint256 updatedAt, uint256 maxAge);
    /// @notice The oracle answer is zero or negative.
    error NonPositivePrice(int256 answer);
    /// @notice The oracle answer moved more than `maxPriceJumpBps` within one `maxPriceAge`.
    error PriceJumpTooLarge(uint256 lastPrice, uint256 newPrice, uint256 maxJumpBps);
    /// @notice Fewer credits or tokens would come out than the caller accepts.
    error SlippageExceeded(uint256 out, uint256 minOut);
    /// @notice The redemption would pass this epoch's cap.
    error RedeemCapExceeded(uint256 requested, uint256 remaining);
    /// @notice Credits moved between two accounts of which neither is a protocol contract, or
    ///         pushed into a protocol contract that did not pull them itself.
    error CreditsNonTransferable(address from, address to);
    /// @notice A zero amount was given.
    error ZeroAmount();

    /// @param admin Governance.
    /// @param token_ CMP.
    /// @param feed CMP/USD oracle.
    /// @param redeemCap Initial `redeemCapPerEpoch` in CMP.
    constructor(address admin, IComputeToken token_, IPriceFeed feed, uint256 redeemCap)
        ERC20("Compute Credits", "CRD")
        Governed(admin)
    {
        if (address(token_) == address(0)) revert ZeroAddress();
        token = token_;
        _setPriceFeed(feed);
        redeemCapPerEpoch = redeemCap;
    }

    // ------------------------------------------------------------------ user actions

    /// @notice Burns `tokenAmount` CMP of the caller (who must have approved this contract) and
    ///         mints `tokenAmount * price * (1 - mintSpreadBps)` credits to `to`, where `price` is
    ///         the LOWER of the last two accepted oracle answers (this call first accepts the
    ///         oracle's answer when it is new), or the only one when there is no other.
    /// @dev `previewMint` quotes the same amount in the same block.
    /// @param tokenAmount CMP to burn.
    /// @param minCreditsOut Reverts `SlippageExceeded` if fewer credits would be minted.
    /// @param to Receives the credits.
    /// @return credits Credits minted.
    function mintWithTokens(uint256 tokenAmount, uint256 minCreditsOut, address to)
        external
        nonReentrant
        whenNotPaused
        returns (uint256 credits)
    {
        if (tokenAmount == 0) revert ZeroAmount();
        if (to == address(0)) revert ZeroAddress();
        (uint256 price,) = _acceptPrice();
        credits = Math.mulDiv(tokenAmount, price * (BPS - mintSpreadBps), priceUnit * BPS);
        if (credits < minCreditsOut || credits == 0) revert SlippageExceeded(credits, minCreditsOut);
        token.burnFrom(msg.sender, tokenAmount);
        _mint(to, credits);
        emit CreditsMinted(msg.sender, to, tokenAmount, credits, price);
    }

    /// @notice Burns `creditAmount` credits of the caller and mints CMP worth them, less
    ///         `redeemSpreadBps`, to `to`; at most `redeemCapPerEpoch` CMP per epoch. The price is
    ///         the HIGHER of the last two accepted oracle answers (this call first accepts the
    ///         oracle's answer when it is new), or the only one when there is no other.
    /// @dev `previewRedeem` quotes the same amount in the same block.
    /// @param creditAmount Credits to burn.
    /// @param minTokensOut Reverts `SlippageExceeded` if fewer CMP would be minted.
    /// @param to Receives the CMP.
    /// @return tokens CMP minted.
    function redeem(uint256 creditAmount, uint256 minTokensOut, address to)
        external
        nonReentrant
        returns (uint256 tokens)
    {
        if (creditAmount == 0) revert ZeroAmount();
        if (to == address(0)) revert ZeroAddress();
        (, uint256 price) = _acceptPrice();
        tokens = Math.mulDiv(creditAmount, priceUnit * (BPS - redeemSpreadBps), price * BPS);
        if (tokens < minTokensOut || tokens == 0) revert SlippageExceeded(tokens, minTokensOut);

        uint64 epoch = uint64(block.timestamp / epochLength);
        uint256 used = epoch == redeemEpoch ? redeemedInEpoch : 0;
        uint256 cap = redeemCapPerEpoch;
        uint256 remaining = cap > used ? cap - used : 0;
        if (tokens > remaining) revert RedeemCapExceeded(tokens, remaining);
        (redeemEpoch, redeemedInEpoch) = (epoch, (used + tokens).toUint192());

        _burn(msg.sender, creditAmount);
        token.mint(to, tokens);
        emit CreditsRedeemed(msg.sender, to, creditAmount, tokens, price);
    }

    // ------------------------------------------------------------------ views

    /// @notice The oracle answer (8 decimals for Chainlink USD feeds) after every check; reverts
    ///         with the check that fails, as the next mint or redemption would. That call accepts
    ///         the answer as `lastPrice` when it is new, and prices from the last two accepted
    ///         answers (the lower for mints, the higher for redemptions): `tokensToCredits`,
    ///         `creditsToTokens` and the previews quote those prices.
    function currentPrice() external view returns (uint256 price) {
        (price,) = _checkedPrice();
    }

    /// @inheritdoc IComputeCredits
    /// @dev At the redemption price (the higher of the last two accepted answers, counting the
    ///      oracle's answer as accepted), as `redeem` would use it now.
    function creditsToTokens(uint256 creditAmount) external view returns (uint256) {
        (, uint256 redeemPrice) = _quotedPrices();
        return Math.mulDiv(creditAmount, priceUnit, redeemPrice);
    }

    /// @inheritdoc IComputeCredits
    /// @dev At the mint price (the lower of the last two accepted answers, counting the oracle's
    ///      answer as accepted), as `mintWithTokens` would use it now.
    function tokensToCredits(uint256 tokenAmount) external view returns (uint256) {
        (uint256 mintPrice,) = _quotedPrices();
        return Math.mulDiv(tokenAmount, mintPrice, priceUnit);
    }

    /// @notice Credits `tokenAmount` CMP would mint now, after the spread: what `mintWithTokens`
    ///         returns in the same block (the lower of the last two accepted answers, counting
    ///         the oracle's answer as accepted). Reverts as the mint's price checks would.
    function previewMint(uint256 tokenAmount) external view returns (uint256) {
        (uint256 mintPrice,) = _quotedPrices();
        return Math.mulDiv(tokenAmount, mintPrice * (BPS - mintSpreadBps), priceUnit * BPS);
    }

    /// @notice CMP `creditAmount` credits would redeem into now, after the spread: what `redeem`
    ///         returns in the same block (the higher of the last two accepted answers, counting
    ///         the oracle's answer as accepted), cap aside. Reverts as the redemption's price
    ///         checks would.
    function previewRedeem(uint256 creditAmount) external view returns (uint256) {
        (, uint256 redeemPrice) = _quotedPrices();
        return Math.mulDiv(creditAmount, priceUnit * (BPS - redeemSpreadBps), redeemPrice * BPS);
    }

    /// @notice CMP that redemptions may still mint in the current epoch.
    function redeemableThisEpoch() external view returns (uint256) {
        uint256 used = uint64(block.timestamp / epochLength) == redeemEpoch ? redeemedInEpoch : 0;
        return redeemCapPerEpoch > used ? redeemCapPerEpoch - used : 0;
    }

    // ------------------------------------------------------------------ governance

    /// @notice Allows or forbids credit movements to and from `account` (escrow, disputes).
    function setProtocolContract(address account, bool allowed) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (account == address(0)) revert ZeroAddress();
        isProtocolContract[account] = allowed;
        emit ProtocolContractSet(account, allowed);
    }

    /// @notice Replaces the oracle and forgets both accepted answers (`lastPrice`, `prevPrice`):
    ///         the new feed's first accepted answer is used for mints and redemptions alike.
    function setPriceFeed(IPriceFeed feed) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setPriceFeed(feed);
    }

    /// @notice Sets `mintSpreadBps`, within [0, 1000].
    function setMintSpreadBps(uint256 value) external onlyRole(DEFAULT_ADMIN_ROLE) {
        mintSpreadBps = uint16(_checked("mintSpreadBps", mintSpreadBps, value, 0, 1_000));
    }

    /// @notice Sets `redeemSpreadBps`, within [0, 1000].
    function setRedeemSpreadBps(uint256 value) external onlyRole(DEFAULT_ADMIN_ROLE) {
        redeemSpreadBps = uint16(_checked("redeemSpreadBps", redeemSpreadBps, value, 0, 1_000));
    }

    /// @notice Sets `maxPriceJumpBps`, within [100, 10000].
    function setMaxPriceJumpBps(uint256 value) external onlyRole(DEFAULT_ADMIN_ROLE) {
        maxPriceJumpBps = uint16(_checked("maxPriceJumpBps", maxPriceJumpBps, value, 100, BPS));
    }

    /// @notice Sets `maxPriceAge` in seconds, within [60, 2 days].
    function setMaxPriceAge(uint256 value) external onlyRole(DEFAULT_ADMIN_ROLE) {
        maxPriceAge = uint32(_checked("maxPriceAge", maxPriceAge, value, 60, 2 days));
    }

    /// @notice Sets the redemption-cap epoch length in seconds, within [1 h, 30 days].
    function setEpochLength(uint256 value) external onlyRole(DEFAULT_ADMIN_ROLE) {
        epochLength = uint32(_checked("epochLength", epochLength, value, 1 hours, 30 days));
        (redeemEpoch, redeemedInEpoch) = (uint64(block.timestamp / value), 0);
    }

    /// @notice Sets `redeemCapPerEpoch` in CMP, within [0, token cap].
    function setRedeemCapPerEpoch(uint256 value) external onlyRole(DEFAULT_ADMIN_ROLE) {
        redeemCapPerEpoch = _checked("redeemCapPerEpoch", redeemCapPerEpoch, value, 0, token.cap());
    }

    // ------------------------------------------------------------------ internals

    /// @dev Credits move only between a holder and a protocol contract; burns are free. Credits
    ///      reach a protocol contract only when it pulls them itself (`transferFrom` sent by the
    ///      contract, as escrows and bonds are taken): a holder's own `transfer` (or a mint) to
    ///      the market or the resolver would sit there outside every escrow, so it reverts.
    ///      Burns look nothing up; payouts from a protocol contract, pulls by one (an escrow or a
    ///      bond taken: the caller's own flag, so the holder's is not read) and mints one flag each.
    function _update(address from, address to, uint256 value) internal override {
        if (to != address(0)) {
            bool refused = from == address(0)
                ? isProtocolContract[to] // minted into a protocol contract: nobody's escrow
                : !((_msgSender() == to && isProtocolContract[to]) || isProtocolContract[from]);
            if (refused) revert CreditsNonTransferable(from, to);
        }
        super._update(from, to, value);
    }

    /// @dev Checks the oracle's answer, accepts it when it is new (`lastPrice` then becomes
    ///      `prevPrice`) and returns the prices this call uses.
    function _acceptPrice() internal returns (uint256 mintPrice, uint256 redeemPrice) {
        (uint256 price, uint256 updatedAt) = _checkedPrice();
        bool isNew = _isNewAnswer(price, updatedAt);
        (mintPrice, redeemPrice) = _pricePair(price, isNew);
        if (isNew) {
            (lastPrice, prevPrice, lastPriceUpdatedAt) = (price.toUint96(), lastPrice, uint64(updatedAt));
            emit PriceAccepted(price, updatedAt);
        }
    }

    /// @dev The prices the next mint and redemption would use, for the views.
    function _quotedPrices() internal view returns (uint256 mintPrice, uint256 redeemPrice) {
        (uint256 price, uint256 updatedAt) = _checkedPrice();
        return _pricePair(price, _isNewAnswer(price, updatedAt));
    }

    /// @dev Whether the checked answer `price` of `updatedAt` is one to accept: newer than
    ///      `lastPrice`, or of the same second and different (a feed updated twice within one
    ///      second). An older answer is never accepted. (`>=` after a failed `>` is the same second.)
    function _isNewAnswer(uint256 price, uint256 updatedAt) internal view returns (bool) {
        uint256 lastAt = lastPriceUpdatedAt;
        return updatedAt > lastAt || (price != lastPrice && updatedAt >= lastAt);
    }

    /// @dev The mint price (the lower) and the redemption price (the higher) of the last two
    ///      accepted answers, counting the checked answer `price` as accepted when `isNew`: it
    ///      then pairs with `lastPrice`; otherwise the stored pair stands, so a price only ever
    ///      comes from an accepted answer. With no answer to pair with (0: none accepted before it
    ///      from this feed), both prices are the one answer.
    function _pricePair(uint256 price, bool isNew) internal view returns (uint256 mintPrice, uint256 redeemPrice) {
        (uint256 a, uint256 b) = isNew ? (price, uint256(lastPrice)) : (uint256(lastPrice), uint256(prevPrice));
        if (b == 0) b = a;
        (mintPrice, redeemPrice) = a < b ? (a, b) : (b, a);
    }

    function _checkedPrice() internal view returns (uint256 price, uint256 updatedAt) {
        int256 answer;
        (, answer,, updatedAt,) = priceFeed.latestRoundData();
        if (answer <= 0) revert NonPositivePrice(answer);
        uint256 maxAge = maxPriceAge;
        if (updatedAt > block.timestamp || block.timestamp - updatedAt > maxAge) {
            revert StalePrice(updatedAt, maxAge);
        }
        price = uint256(answer);
        (uint256 last, uint256 lastAt) = (lastPrice, lastPriceUpdatedAt);
        if (last != 0 && updatedAt < lastAt + maxAge) {
            uint256 diff = price > last ? price - last : last - price;
            if (diff * BPS > last * maxPriceJumpBps) revert PriceJumpTooLarge(last, price, maxPriceJumpBps);
        }
    }

    function _setPriceFeed(IPriceFeed feed) private {
        if (address(feed) == address(0)) revert ZeroAddress();
        priceFeed = feed;
        priceUnit = (10 ** uint256(feed.decimals())).toUint96();
        (lastPrice, prevPrice, lastPriceUpdatedAt) = (0, 0, 0);
        emit PriceFeedSet(address(feed), priceUnit);
    }
}
