// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

interface IVerifierStaking {
    function registerVerifier() external;
    function stakeAsVerifier(uint256 amount) external;
}

/// @title VerifierAgent
/// @notice Test-only: one verifier account, created by `VerifierFleet`.
contract VerifierAgent {
    /// @notice Registers this contract as a verifier and stakes all its CMP.
    function join(IVerifierStaking ledger, IERC20 token) external {
        uint256 amount = token.balanceOf(address(this));
        token.approve(address(ledger), amount);
        ledger.registerVerifier();
        ledger.stakeAsVerifier(amount);
    }
}

/// @title VerifierFleet
/// @notice Test-only: creates many distinct staked verifiers in a few transactions, for the
///         scaling benchmarks (a thousand verifiers would otherwise take thousands of transactions).
contract VerifierFleet {
    /// @notice Creates `count` verifiers with `stakeEach` CMP each, pulled from the caller.
    function spawn(IVerifierStaking ledger, IERC20 token, uint256 count, uint256 stakeEach) external {
        token.transferFrom(msg.sender, address(this), count * stakeEach);
        for (uint256 i; i < count; ++i) {
            VerifierAgent agent = new VerifierAgent();
            token.transfer(address(agent), stakeEach);
            agent.join(ledger, token);
        }
    }
}
