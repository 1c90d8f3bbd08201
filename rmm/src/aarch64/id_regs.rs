//! Reading the CPU's ID registers, for RMI_FEATURES and the realms' view of them.

use super::*;

/// Reads the ID registers RMI_FEATURES is derived from.
pub fn id_registers() -> IdRegisters {
    let ich_vtr: u64;
    // SAFETY: reading ICH_VTR_EL2 at EL2 has no side effects (GICv3 system registers are
    // enabled by EL3 for the Realm world).
    unsafe { asm!("mrs {}, S3_4_C12_C11_1", out(reg) ich_vtr, options(nomem, nostack)) };
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
                $($(($c, $o) => {
                    let v: u64;
                    // SAFETY: reads an ID register (op0 3, op1 0, CRn 0, CRm 1..=7, all
                    // defined, unallocated ones read as zero) at EL2: no side effects.
                    unsafe {
                        asm!(concat!("mrs {}, S3_0_C0_C", $c, "_", $o), out(reg) v,
                             options(nomem, nostack))
                    };
                    v
                })*)*
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
