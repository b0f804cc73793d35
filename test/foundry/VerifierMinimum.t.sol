// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {StakingLedger} from "../../contracts/staking/StakingLedger.sol";
import {LedgerSetup} from "./LedgerSetup.sol";

/// @title VerifierMinimumTest
/// @notice The verifiers' minimum stake (`MIN_VERIFIER_STAKE`, 1,000 CMP) at its boundaries, and
///         `slashVerifier` taking an amount of CMP (all of the stake at most).
contract VerifierMinimumTest is LedgerSetup {
    uint256 internal constant MIN = 1_000 ether;

    function setUp() public {
        _deploy();
    }

    /// A verifier's active stake is none or at least 1,000 CMP: staking 999 CMP is refused, 1,000
    /// accepted; unbonding 500 (leaving 500) is refused, unbonding all of it accepted; unbonding
    /// stake does not count towards the minimum (999 CMP staked beside the 1,000 unbonding is
    /// still refused). A slash of 5,000 CMP of a verifier holding 1,000 takes exactly 1,000.
    function test_verifierMinimumStakeAndSlashOfAnAmount() public {
        vm.assertEq(registry.MIN_VERIFIER_STAKE(), MIN, "1,000 CMP");
        address v = address(0x7E57);
        _fundAndRegister(v, 3_000 ether);

        vm.startPrank(v);
        vm.expectRevert(abi.encodeWithSelector(StakingLedger.VerifierStakeBelowMinimum.selector, 999 ether, MIN));
        registry.stakeAsVerifier(999 ether);
        registry.stakeAsVerifier(1_000 ether);
        vm.assertEq(registry.activeStakeOf(v), 1_000 ether, "staked the minimum");

        vm.expectRevert(abi.encodeWithSelector(StakingLedger.VerifierStakeBelowMinimum.selector, 500 ether, MIN));
        registry.requestVerifierUnstake(500 ether);
        registry.requestVerifierUnstake(1_000 ether);
        vm.assertEq(registry.activeStakeOf(v), 0, "nothing active");
        vm.assertEq(registry.verifierOf(v).unbonding, 1_000 ether, "all of it unbonding");

        vm.expectRevert(abi.encodeWithSelector(StakingLedger.VerifierStakeBelowMinimum.selector, 999 ether, MIN));
        registry.stakeAsVerifier(999 ether);
        vm.stopPrank();

        // Another verifier, 1,000 CMP active: the resolver asks for 5,000 CMP, gets 1,000.
        address w = address(0x7E58);
        _fundAndRegister(w, 1_000 ether);
        vm.prank(w);
        registry.stakeAsVerifier(1_000 ether);
        address to = address(0xCAFE);
        uint256 held = token.balanceOf(address(registry));
        vm.prank(address(resolver));
        uint256 taken = registry.slashVerifier(w, 5_000 ether, to);
        vm.assertEq(taken, 1_000 ether, "took all 1,000 CMP, no more");
        vm.assertEq(token.balanceOf(to), 1_000 ether, "paid 1,000 CMP");
        vm.assertEq(token.balanceOf(address(registry)), held - 1_000 ether, "the ledger paid out 1,000 CMP");
        vm.assertEq(registry.verifierOf(w).staked, 0, "nothing left staked");
        vm.assertEq(registry.activeStakeOf(w), 0, "nothing left active");
    }

    function _fundAndRegister(address v, uint256 amount) private {
        vm.prank(address(handler)); // the handler holds the supply
        token.transfer(v, amount);
        vm.startPrank(v);
        registry.registerVerifier();
        token.approve(address(registry), amount);
        vm.stopPrank();
    }
}
