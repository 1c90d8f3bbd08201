//! Reading the CPU's ID registers, for RMI_FEATURES and the realms' view of them.

use super::*;
use aarch64_cpu::registers::ICH_VTR_EL2;
use sysregs::id_register;

/// Reads the ID registers RMI_FEATURES is derived from.
pub fn id_registers() -> IdRegisters {
    // GICv3 system registers are enabled by EL3 for the Realm world.
    let ich_vtr = ICH_VTR_EL2.get();
    IdRegisters {
        id_aa64mmfr0: ID_AA64MMFR0_EL1.get(),
        id_aa64mmfr1: ID_AA64MMFR1_EL1.get(),
        id_aa64dfr0: ID_AA64DFR0_EL1.get(),
        ich_vtr,
    }
}

/// Reads the ID register `S3_0_C0_C<crm>_<op2>` (CRm 1..=7); 0 for anything else.
pub(super) fn read_id_register(crm: u8, op2: u8) -> u64 {
    macro_rules! id_registers {
        ($($c:literal => [$($o:literal),*]),*) => {
            match (crm, op2) {
                $($(($c, $o) => id_register::<$c, $o>().get(),)*)*
                _ => 0,
            }
        };
    }
    id_registers!(
        1 => [0, 1, 2, 3, 4, 5, 6, 7],
        2 => [0, 1, 2, 3, 4, 5, 6, 7],
        3 => [0, 1, 2, 3, 4, 5, 6, 7],
        4 => [0, 1, 2, 3, 4, 5, 6, 7],
        5 => [0, 1, 2, 3, 4, 5, 6, 7],
        6 => [0, 1, 2, 3, 4, 5, 6, 7],
        7 => [0, 1, 2, 3, 4, 5, 6, 7]
    )
}
