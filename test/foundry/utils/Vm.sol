// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Vm
/// @notice The few Foundry cheatcodes this suite uses, declared here so the suite needs no
///         forge-std (npm has only forge-std 1.1.2). Signatures as in forge-std's `Vm.sol`;
///         the cheatcode contract lives at `address(uint160(uint256(keccak256("hevm cheat code"))))`.
interface Vm {
    /// @notice The next call (only) is made from `sender`.
    function prank(address sender) external;
    /// @notice Every call until `stopPrank` is made from `sender`.
    function startPrank(address sender) external;
    /// @notice Ends `startPrank`.
    function stopPrank() external;
    /// @notice Sets `block.timestamp`.
    function warp(uint256 newTimestamp) external;
    /// @notice Sets `block.number`.
    function roll(uint256 newHeight) external;
    /// @notice Reads storage slot `slot` of `target`.
    function load(address target, bytes32 slot) external view returns (bytes32 data);
    /// @notice Sets what `blockhash(blockNumber)` returns.
    function setBlockhash(uint256 blockNumber, bytes32 blockHash) external;
    /// @notice The next call must revert.
    function expectRevert() external;
    /// @notice The next call must revert with the custom error or message whose selector is given.
    function expectRevert(bytes4 revertData) external;
    /// @notice The next call must revert with exactly `revertData`.
    function expectRevert(bytes calldata revertData) external;
    /// @notice Discards the current fuzz input when `condition` is false.
    function assume(bool condition) external pure;
    /// @notice Names an address in traces.
    function label(address account, string calldata newLabel) external;

    /// @notice Fails (reverts) with `err` and both values unless they are equal.
    function assertEq(uint256 left, uint256 right, string calldata err) external pure;
    /// @notice Fails (reverts) with `err` and both values unless they are equal.
    function assertEq(address left, address right, string calldata err) external pure;
    /// @notice Fails (reverts) with `err` unless `left >= right`.
    function assertGe(uint256 left, uint256 right, string calldata err) external pure;
    /// @notice Fails (reverts) with `err` unless `left > right`.
    function assertGt(uint256 left, uint256 right, string calldata err) external pure;
    /// @notice Fails (reverts) with `err` unless `left <= right`.
    function assertLe(uint256 left, uint256 right, string calldata err) external pure;
    /// @notice Fails (reverts) with `err` unless `condition`.
    function assertTrue(bool condition, string calldata err) external pure;
    /// @notice Fails (reverts) with `err` if `condition`.
    function assertFalse(bool condition, string calldata err) external pure;
}
