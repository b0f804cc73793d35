// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";
import {ERC20Capped} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Capped.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @title ComputeToken (CMP)
/// @notice The compute market's native token: staked by providers and verifiers, burned to mint
///         USD credits, emitted as rewards. ERC-20 with EIP-2612 permits, burnable, and a hard
///         cap on the supply.
/// @dev Only holders of `MINTER_ROLE` mint: the `RewardsDistributor` (emissions) and
///      `ComputeCredits` (redemptions). The cap bounds the circulating supply: burned tokens
///      make room for new mints, which is what lets credits redeem into CMP.
///      No ERC20Votes: nothing in the protocol votes with CMP balances (juries are drawn by
///      verifier stake), and the total-supply checkpoint it wrote on every mint and burn paid
///      for a history nobody read. A future governor would count votes through a staking-vault
///      wrapper.
contract ComputeToken is ERC20, ERC20Burnable, ERC20Capped, ERC20Permit, AccessControl {
    /// @notice Role allowed to mint.
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

    /// @param admin Receives `DEFAULT_ADMIN_ROLE` (grants and revokes minters).
    /// @param initialRecipient Receives `initialSupply`.
    /// @param initialSupply Minted at deployment; must not exceed `supplyCap`.
    /// @param supplyCap The hard cap on the total supply.
    constructor(address admin, address initialRecipient, uint256 initialSupply, uint256 supplyCap)
        ERC20("Compute Token", "CMP")
        ERC20Capped(supplyCap)
        ERC20Permit("Compute Token")
    {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        if (initialSupply > 0) _mint(initialRecipient, initialSupply);
    }

    /// @notice Mints `amount` CMP to `to`. Reverts `ERC20ExceededCap` past the cap.
    /// @param to Recipient.
    /// @param amount Amount in wei of CMP.
    function mint(address to, uint256 amount) external onlyRole(MINTER_ROLE) {
        _mint(to, amount);
    }

    /// @dev The balances move and, on a mint, the cap is checked.
    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Capped) {
        super._update(from, to, value);
    }
}
