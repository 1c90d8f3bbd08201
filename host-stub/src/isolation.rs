//! Races between a running REC and the host over the realm's stage-2 mappings: does a realm that
//! cached a translation still reach a granule after the host removed or changed the mapping and
//! reused the granule, in the same run of the REC?
//!
//! Each race loads the realm payload in its isolation mode into realm A and runs its racing REC
//! on another physical CPU ([`OtherCpu`]). The REC touches its target granule (so that CPU's TLB
//! holds the translation), sets READY in a flag page (an NS page it has at an unprotected IPA),
//! and polls GO without ever exiting. Meanwhile the host, on this CPU, changes the mapping with
//! the RMI command under test and reuses the granule: as an RTT of the same realm, as DATA of
//! realm B (NEW, built beforehand: every granule delegation changes the GPT, and TF-A's TLBI
//! RPALOS for that flushes every CPU's TLB on QEMU, so none happens in the window), or back in
//! the Non-secure PAS, written by the host. Then it sets GO; the realm accesses the old IPA
//! again. For a path that removes the mapping the access must fault at that IPA (a REC exit with
//! a data abort there); for one that keeps it (fold, unfold) it must reach its own data again. A
//! realm that reads the host's or realm B's marker reached the reused granule.
//!
//! Every wait is a bounded number of polls, each followed by [`OtherCpu::pause`].
//!
//! What QEMU can show: its TCG TLB caches final translations only (stage 1 and 2 combined, by
//! IPA here: the payload runs with its MMU off), never table walks, and it models no TLB
//! conflicts. A missing invalidation is visible wherever the command changes where an IPA
//! leads: DATA_DESTROY, RTT_DESTROY of a protected table (through the DATA_DESTROY before it,
//! which the table's own walk-cache entries cannot add to), RTT_DESTROY of an unprotected table
//! that still maps NS pages, RTT_UNMAP_UNPROTECTED and RTT_SET_RIPAS. RTT_FOLD and an unfolding
//! RTT_CREATE keep every IPA leading to the same memory: a stale walk cache pointing into the
//! freed table, or a break-before-make conflict, would be needed to go wrong, and QEMU has
//! neither, so those two races check the correct outcome but pass without the invalidation too.
//! Reuse back in the Non-secure PAS cannot happen in the window at all on QEMU: undelegation's
//! TLBI RPALOS (TF-A's GPT update) flushes every CPU's TLB there; the fold race does it anyway.

use heapless::Vec;
use hostcall_abi::payload::isolation as iso;
use hostcall_abi::rec_run::{RmiExitReason, RmiRecExit, RMI_REC_EXIT_OFFSET};
use hostcall_abi::rmi::{RmiCommand as C, RmiReturn};

use crate::measure::DATA_MEASURE_CONTENT;
use crate::realm_build::{realm_params, Failure, Host, Pool, NS_ATTRS, UNPROTECTED};
use crate::realm_run::{self, Loaded, RecStart};
use crate::{Conduit, HostMemory};

const G: u64 = 4096;
const OK: RmiReturn = RmiReturn::SUCCESS;

/// The protected granule the realm touches: DATA of realm A, under a level-3 RTT of its own.
pub const TARGET_IPA: u64 = 0x20_9000;
/// The level-3 RTT holding [`TARGET_IPA`] (RTT_DESTROY's table).
pub const TARGET_TABLE_IPA: u64 = 0x20_0000;
/// Where the DATA_DESTROY race makes the reused granule a level-3 RTT of realm A.
pub const REUSED_RTT_IPA: u64 = 0x40_0000;
/// The flag page's unprotected IPA (x1 of the payload in its isolation mode).
pub const FLAGS_IPA: u64 = UNPROTECTED + 0x1000;
/// The NS page the RTT_UNMAP_UNPROTECTED race unmaps.
pub const NS_TARGET_IPA: u64 = UNPROTECTED + 0x5000;
/// The level-3 RTT of unprotected IPAs the unprotected RTT_DESTROY race destroys.
pub const NS_TABLE_IPA: u64 = UNPROTECTED + 0x40_0000;
/// The NS page mapped under [`NS_TABLE_IPA`] that the realm touches.
pub const NS_TABLE_TARGET_IPA: u64 = NS_TABLE_IPA + 0x9000;
/// The 2 MiB of unprotected IPA space the fold and unfold races map to one NS block.
pub const NS_BLOCK_IPA: u64 = UNPROTECTED + 0x20_0000;
/// The page of [`NS_BLOCK_IPA`]'s block the realm touches.
pub const NS_BLOCK_TARGET_IPA: u64 = NS_BLOCK_IPA + 0x9000;
/// Realm B: where its marker DATA granule sits, and where it takes reused granules.
const B_MARKER_IPA: u64 = 0;
const B_REUSED_DATA_IPA: u64 = 0x1000;
const B_REUSED_RTT_IPA: u64 = 0x20_0000;

/// What realm B's DATA granules hold (every doubleword).
pub const OTHER_REALM_MARKER: u64 = 0x07E4_12EA_1B0B_0B0B;
/// What the host writes into an NS page it took back.
pub const HOST_MARKER: u64 = 0x4057_4057_0000_5EC2;
/// What the target granule holds when the realm first touches it (doubleword 0).
pub const TARGET_INITIAL: u64 = 0x0A11_CE00_7A26_E700;
/// Bytes of NS memory the fold and unfold races map as one level-2 block: the caller's
/// `ns_block` must be this big and aligned to it.
pub const NS_BLOCK_SIZE: u64 = 0x20_0000;

/// The stage-2 page descriptor the realm forges in the DATA_DESTROY race: the architectural
/// format the RMM writes for an ASSIGNED RAM page (type page, MemAttr Normal Write-Back under
/// FEAT_S2FWB, S2AP read/write, Inner Shareable, AF), without the output address.
const FORGED_PAGE_ATTRS: u64 = 0b11 | 0b0110 << 2 | 0b11 << 6 | 0b11 << 8 | 1 << 10;

/// Polls of the flag page or of the other CPU the host makes at most, per wait.
pub const HOST_SPIN_LIMIT: u64 = 10_000_000;

/// The other physical CPU, which runs the racing REC as a VMM's vCPU thread would.
pub trait OtherCpu {
    /// Has the other CPU issue RMI_REC_ENTER(`rec`, `run`); returns at once.
    fn start_rec(&mut self, rec: u64, run: u64);
    /// REC_ENTER's status (x0) once it has returned there; `None` while the REC runs. Reports
    /// each return once.
    fn rec_returned(&mut self) -> Option<u64>;
    /// Lets the other CPUs run for a moment (a YIELD: QEMU's round-robin TCG then switches).
    fn pause(&mut self);
}

/// The RMI command whose missing TLB maintenance a race looks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Race {
    /// DATA_DESTROY of the touched page; its granule becomes a level-3 RTT of the same realm,
    /// into which the realm writes a page descriptor it forged, mapping realm B's DATA.
    DataDestroy,
    /// DATA_DESTROY, then RTT_DESTROY of the level-3 RTT above it; the page's granule becomes
    /// DATA of realm B, the table's an RTT of realm B.
    RttDestroy,
    /// RTT_DESTROY of a level-3 RTT of unprotected IPAs that still maps the touched NS page
    /// (such a table is not live: the command drops its NS mappings); the table's granule
    /// becomes DATA of realm B and the host writes its marker to the NS page.
    RttDestroyUnprotected,
    /// RTT_FOLD of a level-3 RTT of NS pages into a level-2 block; the table's granule goes back
    /// to the Non-secure PAS and the host writes its marker over it.
    RttFold,
    /// RTT_UNMAP_UNPROTECTED of the touched NS page, which the host then writes its marker to.
    UnmapUnprotected,
    /// RTT_SET_RIPAS RAM to EMPTY (asked by the realm's other REC), then DATA_DESTROY of the
    /// now invalid entry; the granule becomes DATA of realm B.
    SetRipas,
    /// RTT_CREATE under a live level-2 block of NS pages (unfold).
    RttCreateUnfold,
    /// RTT_SET_RIPAS RAM to EMPTY alone: the granule stays the realm's DATA, but an IPA whose
    /// RIPAS is EMPTY must fault.
    SetRipasAlone,
}

/// Every race, in the order the scenario runs them.
pub const RACES: [Race; 8] = [
    Race::DataDestroy,
    Race::RttDestroy,
    Race::RttDestroyUnprotected,
    Race::RttFold,
    Race::UnmapUnprotected,
    Race::SetRipas,
    Race::RttCreateUnfold,
    Race::SetRipasAlone,
];

impl Race {
    /// The command under test, for the log.
    pub const fn name(self) -> &'static str {
        match self {
            Race::DataDestroy => "DATA_DESTROY",
            Race::RttDestroy => "RTT_DESTROY",
            Race::RttDestroyUnprotected => "RTT_DESTROY (unprotected)",
            Race::RttFold => "RTT_FOLD",
            Race::UnmapUnprotected => "RTT_UNMAP_UNPROTECTED",
            Race::SetRipas => "RTT_SET_RIPAS",
            Race::RttCreateUnfold => "RTT_CREATE (unfold)",
            Race::SetRipasAlone => "RTT_SET_RIPAS (no DATA_DESTROY)",
        }
    }

    /// What the host did while the realm ran, for the log.
    pub const fn story(self) -> &'static str {
        match self {
            Race::DataDestroy => "DATA_DESTROY of the page, its granule made a level-3 RTT of the same realm (RTT_CREATE)",
            Race::RttDestroy => "DATA_DESTROY of the page and RTT_DESTROY of its level-3 RTT, the page's granule made DATA of realm B, the table's an RTT of realm B",
            Race::RttDestroyUnprotected => "RTT_DESTROY of the level-3 RTT of unprotected IPAs still mapping the NS page, the table's granule made DATA of realm B, the NS page written by the host",
            Race::RttFold => "RTT_FOLD of the level-3 RTT of 512 NS pages into a level-2 block, the table's granule undelegated and written by the host",
            Race::UnmapUnprotected => "RTT_UNMAP_UNPROTECTED of the NS page, which the host then wrote",
            Race::SetRipas => "RTT_SET_RIPAS RAM to EMPTY for the realm's other REC, DATA_DESTROY of the now invalid entry, its granule made DATA of realm B",
            Race::RttCreateUnfold => "RTT_CREATE of a level-3 RTT under the live level-2 block of NS pages",
            Race::SetRipasAlone => "RTT_SET_RIPAS RAM to EMPTY for the realm's other REC, nothing else (the granule stays the realm's, its IPA EMPTY)",
        }
    }

    /// Whether the command keeps the IPA mapped to the same memory (fold, unfold): the realm's
    /// access must then reach its own data again; otherwise it must fault.
    pub const fn keeps_mapping(self) -> bool {
        matches!(self, Race::RttFold | Race::RttCreateUnfold)
    }

    /// Whether the target's RIPAS is EMPTY after the change, so that the realm's access must
    /// take an injected SEA rather than cause a REC exit (A5.2.3).
    pub const fn ends_empty(self) -> bool {
        matches!(self, Race::SetRipas | Race::SetRipasAlone)
    }

    /// The IPA the realm touches.
    pub const fn target(self) -> u64 {
        match self {
            Race::DataDestroy | Race::RttDestroy | Race::SetRipas | Race::SetRipasAlone => {
                TARGET_IPA
            }
            Race::UnmapUnprotected => NS_TARGET_IPA,
            Race::RttDestroyUnprotected => NS_TABLE_TARGET_IPA,
            Race::RttFold | Race::RttCreateUnfold => NS_BLOCK_TARGET_IPA,
        }
    }

    /// Whether the realm's REC 0 asks for the RIPAS change first (the racer is REC 1).
    const fn has_ripas_requester(self) -> bool {
        matches!(self, Race::SetRipas | Race::SetRipasAlone)
    }

    /// Whether the realm's tree needs the 2 MiB NS block.
    const fn uses_block(self) -> bool {
        self.keeps_mapping()
    }
}

/// How the realm's accesses after the host's change ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// A stage-2 fault at the old IPA: a REC exit with a data abort there.
    Faulted,
    /// The access took the synchronous external abort the RMM injects for a data access to a
    /// Protected IPA whose RIPAS is EMPTY (A5.2.3), at the old IPA: no exit, the realm's own
    /// vector saw it.
    SeaInjected,
    /// Every access completed and found the realm's own data, as before the change.
    SameData,
    /// Every access completed, and what they found was not the realm's own data: they reached
    /// the granule after its reuse.
    ReachedReused,
    /// Something else (the race did not happen as designed); the reason.
    Unexpected(&'static str),
}

/// What one race showed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RaceOutcome {
    /// The race.
    pub race: Race,
    /// How it ended.
    pub end: End,
    /// REC_ENTER's status on the other CPU.
    pub enter_status: u64,
    /// rec_exit.exit_reason (`u64::MAX` if the REC never returned).
    pub exit_reason: u64,
    /// rec_exit.esr.
    pub esr: u64,
    /// The IPA page HPFAR named (0 if none).
    pub fault_ipa: u64,
    /// The flag page's doublewords as the realm left them.
    pub flags: [u64; iso::WORDS],
    /// Whether the realms were taken apart and every granule undelegated (only tried when the
    /// race passed: after a breach the tables hold what the realm wrote).
    pub cleaned_up: bool,
}

impl RaceOutcome {
    /// The correct outcome: a fault at the old IPA, or the same data for fold and unfold.
    pub fn passed(&self) -> bool {
        let want = if self.race.keeps_mapping() {
            End::SameData
        } else if self.race.ends_empty() {
            End::SeaInjected
        } else {
            End::Faulted
        };
        self.end == want
    }

    /// What the realm read at the target after the go (doubleword 0).
    pub fn second_read(&self) -> u64 {
        self.flags[iso::SECOND_READ]
    }

    /// What the realm read through its forged descriptor (DATA_DESTROY race).
    pub fn forged_read(&self) -> u64 {
        self.flags[iso::FORGE_READ]
    }
}

/// Where the image's memory comes in.
#[derive(Clone, Copy, Debug)]
pub struct Setup<'a> {
    /// The realm payload's image.
    pub image: &'a [u8],
    /// VMID of realm A; realm B gets the next.
    pub vmid: u16,
    /// [`NS_BLOCK_SIZE`] bytes of the host's NS memory, aligned to that size.
    pub ns_block: u64,
}

fn fail(step: &'static str, got: RmiReturn) -> Failure {
    Failure {
        step,
        got,
        want: OK,
    }
}

/// Granules a race delegated outside realm A's loader, to undelegate at the end.
type Granules = Vec<u64, 24>;

fn delegate<Cd: Conduit, M: HostMemory>(
    h: &mut Host<'_, Cd, M>,
    pool: &mut Pool,
    list: &mut Granules,
) -> Result<u64, Failure> {
    let pa = pool.take(1)?;
    h.expect("delegate (race)", C::GRANULE_DELEGATE, &[pa], OK)?;
    list.push(pa)
        .map_err(|_| fail("too many granules for one race", OK))?;
    Ok(pa)
}

/// Realm B: NEW, level-2 and level-3 RTTs at IPA 0, DATA full of [`OTHER_REALM_MARKER`] at
/// [`B_MARKER_IPA`].
struct OtherRealm {
    rd: u64,
    marker_data: u64,
}

/// Realm A's granules beyond the payload loader's.
#[derive(Default)]
struct Extras {
    target_table: u64,
    target_data: u64,
    block_table: u64,
    unfold_table: u64,
    ns_table: u64,
}

/// Runs `race`: realms A and B, the race with the REC on the other CPU, the verdict, and (if it
/// passed) the teardown. `pool` must be the race's own (NS granules nothing else uses).
pub fn run_race<Cd: Conduit, M: HostMemory, O: OtherCpu>(
    h: &mut Host<'_, Cd, M>,
    pool: &mut Pool,
    other: &mut O,
    race: Race,
    setup: &Setup<'_>,
) -> Result<RaceOutcome, Failure> {
    let mut granules = Granules::new();
    let src = pool.take(1)?;
    let flags_page = pool.take(1)?;
    let ns_page = pool.take(1)?;
    let ns_table_page = pool.take(1)?;
    h.fill_words(src, OTHER_REALM_MARKER);

    // Realm B, NEW, with its marker page.
    let b = other_realm(h, pool, &mut granules, setup.vmid + 1, src)?;

    // Realm A, its extra tables and mappings added while NEW.
    let mut extras = Extras::default();
    let starts = racer_recs(race);
    let l = realm_run::load_custom(h, pool, setup.image, setup.vmid, starts, |h, pool, l| {
        realm_a_extras(
            h,
            pool,
            &mut granules,
            &mut extras,
            l,
            race,
            setup,
            [flags_page, ns_page, ns_table_page],
        )
    })?;

    // The flag page and the NS targets' contents.
    let mut flags = [0u64; iso::WORDS];
    flags[iso::TARGET] = race.target();
    if race == Race::DataDestroy {
        flags[iso::FORGE_DESC] = b.marker_data | FORGED_PAGE_ATTRS;
        flags[iso::FORGE_IPA] = REUSED_RTT_IPA + iso::FORGE_WORD as u64 * G;
    }
    h.write_words(flags_page, &flags);
    h.write_words(ns_page, &[TARGET_INITIAL, 0]);
    h.write_words(ns_table_page, &[TARGET_INITIAL, 0]);
    h.write_words(
        setup.ns_block + (NS_BLOCK_TARGET_IPA - NS_BLOCK_IPA),
        &[TARGET_INITIAL, 0],
    );

    // SET_RIPAS: REC 0 asks for RIPAS EMPTY over the target here, before the race; REC 1 races.
    let (racer, racer_run) = if race.has_ripas_requester() {
        let (ret, _) = h.cmd(C::REC_ENTER, &[l.realm.recs[0], l.run]);
        if ret != OK {
            return Err(fail("REC_ENTER of the RIPAS requester", ret));
        }
        let e = read_exit(h, l.run);
        if e.exit_reason != RmiExitReason::RipasChange as u64
            || e.ripas != (TARGET_IPA, TARGET_IPA + G, 0)
        {
            return Err(Failure {
                step: "the RIPAS requester's exit (want RIPAS_CHANGE to EMPTY over the target)",
                got: RmiReturn::from_raw(e.exit_reason),
                want: RmiReturn::from_raw(RmiExitReason::RipasChange as u64),
            });
        }
        (l.realm.recs[1], l.secondary_runs[0])
    } else {
        (l.realm.recs[0], l.run)
    };

    // The race: the REC touches its target on the other CPU and waits for GO.
    other.start_rec(racer, racer_run);
    let mut returned = None;
    let mut ready = false;
    for _ in 0..HOST_SPIN_LIMIT {
        if h.read_word(flags_page, iso::READY) == iso::READY_VALUE {
            ready = true;
            break;
        }
        returned = other.rec_returned();
        if returned.is_some() {
            break;
        }
        other.pause();
    }
    let changed = if ready {
        change_and_reuse(h, race, &l, &b, &extras, src, [ns_page, ns_table_page])
    } else {
        Ok(())
    };
    h.write_words(flags_page + iso::GO as u64 * 8, &[iso::GO_VALUE]);
    for _ in 0..HOST_SPIN_LIMIT {
        if returned.is_some() {
            break;
        }
        returned = other.rec_returned();
        other.pause();
    }
    let Some(enter_status) = returned else {
        // The REC still runs: nothing can be taken apart.
        return Ok(RaceOutcome {
            race,
            end: End::Unexpected("the REC did not return from REC_ENTER"),
            enter_status: u64::MAX,
            exit_reason: u64::MAX,
            esr: 0,
            fault_ipa: 0,
            flags: read_flags(h, flags_page),
            cleaned_up: false,
        });
    };
    changed?;

    let e = read_exit(h, racer_run);
    let flags = read_flags(h, flags_page);
    let end = if !ready {
        End::Unexpected("the REC exited before it touched its target")
    } else {
        classify(race, enter_status, &e, &flags)
    };
    let mut outcome = RaceOutcome {
        race,
        end,
        enter_status,
        exit_reason: e.exit_reason,
        esr: e.esr,
        fault_ipa: e.fault_ipa,
        flags,
        cleaned_up: false,
    };
    if outcome.passed() {
        teardown(h, race, &l, &b, &extras, &granules)?;
        outcome.cleaned_up = true;
    }
    Ok(outcome)
}

/// The RECs of realm A: one racer, or for SET_RIPAS a RIPAS requester (REC 0) and a racer.
fn racer_recs(race: Race) -> &'static [RecStart] {
    const fn start(role: u64) -> RecStart {
        RecStart {
            runnable: true,
            args: [hostcall_abi::payload::MODE_ISOLATION, FLAGS_IPA, role],
        }
    }
    const ONE: [RecStart; 1] = [start(iso::ROLE_RACER)];
    const TWO: [RecStart; 2] = [start(iso::ROLE_RIPAS_REQUESTER), start(iso::ROLE_RACER)];
    if race.has_ripas_requester() {
        &TWO
    } else {
        &ONE
    }
}

fn other_realm<Cd: Conduit, M: HostMemory>(
    h: &mut Host<'_, Cd, M>,
    pool: &mut Pool,
    granules: &mut Granules,
    vmid: u16,
    src: u64,
) -> Result<OtherRealm, Failure> {
    let params = pool.take(1)?;
    let rtt_base = pool.take(2)?;
    for pa in [rtt_base, rtt_base + G] {
        h.expect("delegate (realm B)", C::GRANULE_DELEGATE, &[pa], OK)?;
        granules
            .push(pa)
            .map_err(|_| fail("too many granules for one race", OK))?;
    }
    let rd = delegate(h, pool, granules)?;
    h.put(params, &realm_params(vmid, rtt_base));
    h.expect("REALM_CREATE (realm B)", C::REALM_CREATE, &[rd, params], OK)?;
    for level in [2u64, 3] {
        let t = delegate(h, pool, granules)?;
        h.expect(
            "RTT_CREATE (realm B)",
            C::RTT_CREATE,
            &[rd, t, 0, level],
            OK,
        )?;
    }
    let marker_data = delegate(h, pool, granules)?;
    h.expect(
        "DATA_CREATE (realm B's marker)",
        C::DATA_CREATE,
        &[rd, marker_data, B_MARKER_IPA, src, DATA_MEASURE_CONTENT],
        OK,
    )?;
    Ok(OtherRealm { rd, marker_data })
}

#[allow(clippy::too_many_arguments)]
fn realm_a_extras<Cd: Conduit, M: HostMemory>(
    h: &mut Host<'_, Cd, M>,
    pool: &mut Pool,
    granules: &mut Granules,
    extras: &mut Extras,
    l: &mut Loaded,
    race: Race,
    setup: &Setup<'_>,
    [flags_page, ns_page, ns_table_page]: [u64; 3],
) -> Result<(), Failure> {
    let rd = l.realm.rd;
    // The protected target: a level-3 RTT at 2 MiB and one DATA page in it.
    extras.target_table = delegate(h, pool, granules)?;
    h.expect(
        "RTT_CREATE (target table)",
        C::RTT_CREATE,
        &[rd, extras.target_table, TARGET_TABLE_IPA, 3],
        OK,
    )?;
    extras.target_data = delegate(h, pool, granules)?;
    let src = pool.take(1)?;
    h.write_page(src, &[0; G as usize]);
    h.write_words(src, &[TARGET_INITIAL]);
    h.expect(
        "DATA_CREATE (target)",
        C::DATA_CREATE,
        &[rd, extras.target_data, TARGET_IPA, src, 0],
        OK,
    )?;
    // The unprotected side: the flag page and the NS target page.
    for level in [2u64, 3] {
        let t = delegate(h, pool, granules)?;
        h.expect(
            "RTT_CREATE (unprotected)",
            C::RTT_CREATE,
            &[rd, t, UNPROTECTED, level],
            OK,
        )?;
    }
    for (ipa, pa) in [(FLAGS_IPA, flags_page), (NS_TARGET_IPA, ns_page)] {
        h.expect(
            "RTT_MAP_UNPROTECTED",
            C::RTT_MAP_UNPROTECTED,
            &[rd, ipa, 3, pa | NS_ATTRS],
            OK,
        )?;
    }
    if race == Race::RttDestroyUnprotected {
        extras.ns_table = delegate(h, pool, granules)?;
        h.expect(
            "RTT_CREATE (unprotected table to destroy)",
            C::RTT_CREATE,
            &[rd, extras.ns_table, NS_TABLE_IPA, 3],
            OK,
        )?;
        h.expect(
            "RTT_MAP_UNPROTECTED",
            C::RTT_MAP_UNPROTECTED,
            &[rd, NS_TABLE_TARGET_IPA, 3, ns_table_page | NS_ATTRS],
            OK,
        )?;
    }
    if race.uses_block() {
        // 512 NS pages of one aligned block, folded at once for the unfold race.
        extras.block_table = delegate(h, pool, granules)?;
        h.expect(
            "RTT_CREATE (NS block)",
            C::RTT_CREATE,
            &[rd, extras.block_table, NS_BLOCK_IPA, 3],
            OK,
        )?;
        for i in 0..NS_BLOCK_SIZE / G {
            h.expect(
                "RTT_MAP_UNPROTECTED (NS block)",
                C::RTT_MAP_UNPROTECTED,
                &[
                    rd,
                    NS_BLOCK_IPA + i * G,
                    3,
                    (setup.ns_block + i * G) | NS_ATTRS,
                ],
                OK,
            )?;
        }
        if race == Race::RttCreateUnfold {
            h.expect(
                "RTT_FOLD (NS block, before the race)",
                C::RTT_FOLD,
                &[rd, NS_BLOCK_IPA, 3],
                OK,
            )?;
            // The folded table's granule (DELEGATED again) becomes the unfold's new RTT.
            extras.unfold_table = extras.block_table;
        }
    }
    Ok(())
}

/// The host's side of the race, while the REC runs: the command under test and the reuse.
#[allow(clippy::too_many_arguments)]
fn change_and_reuse<Cd: Conduit, M: HostMemory>(
    h: &mut Host<'_, Cd, M>,
    race: Race,
    l: &Loaded,
    b: &OtherRealm,
    extras: &Extras,
    src: u64,
    [ns_page, ns_table_page]: [u64; 2],
) -> Result<(), Failure> {
    let rd = l.realm.rd;
    let p = extras.target_data;
    match race {
        Race::DataDestroy => {
            h.expect("DATA_DESTROY", C::DATA_DESTROY, &[rd, TARGET_IPA], OK)?;
            h.expect(
                "RTT_CREATE (the granule reused as an RTT)",
                C::RTT_CREATE,
                &[rd, p, REUSED_RTT_IPA, 3],
                OK,
            )?;
        }
        Race::RttDestroy => {
            h.expect("DATA_DESTROY", C::DATA_DESTROY, &[rd, TARGET_IPA], OK)?;
            h.expect(
                "RTT_DESTROY",
                C::RTT_DESTROY,
                &[rd, TARGET_TABLE_IPA, 3],
                OK,
            )?;
            h.expect(
                "DATA_CREATE (realm B takes the page's granule)",
                C::DATA_CREATE,
                &[b.rd, p, B_REUSED_DATA_IPA, src, 0],
                OK,
            )?;
            h.expect(
                "RTT_CREATE (realm B takes the table's granule)",
                C::RTT_CREATE,
                &[b.rd, extras.target_table, B_REUSED_RTT_IPA, 3],
                OK,
            )?;
        }
        Race::RttDestroyUnprotected => {
            h.expect(
                "RTT_DESTROY (unprotected, still mapping the page)",
                C::RTT_DESTROY,
                &[rd, NS_TABLE_IPA, 3],
                OK,
            )?;
            h.expect(
                "DATA_CREATE (realm B takes the table's granule)",
                C::DATA_CREATE,
                &[b.rd, extras.ns_table, B_REUSED_DATA_IPA, src, 0],
                OK,
            )?;
            h.fill_words(ns_table_page, HOST_MARKER);
        }
        Race::RttFold => {
            h.expect("RTT_FOLD", C::RTT_FOLD, &[rd, NS_BLOCK_IPA, 3], OK)?;
            h.expect(
                "GRANULE_UNDELEGATE (the folded table)",
                C::GRANULE_UNDELEGATE,
                &[extras.block_table],
                OK,
            )?;
            h.fill_words(extras.block_table, HOST_MARKER);
        }
        Race::UnmapUnprotected => {
            h.expect(
                "RTT_UNMAP_UNPROTECTED",
                C::RTT_UNMAP_UNPROTECTED,
                &[rd, NS_TARGET_IPA, 3],
                OK,
            )?;
            h.fill_words(ns_page, HOST_MARKER);
        }
        Race::SetRipas => {
            h.expect(
                "RTT_SET_RIPAS (EMPTY)",
                C::RTT_SET_RIPAS,
                &[rd, l.realm.recs[0], TARGET_IPA, TARGET_IPA + G],
                OK,
            )?;
            h.expect("DATA_DESTROY", C::DATA_DESTROY, &[rd, TARGET_IPA], OK)?;
            h.expect(
                "DATA_CREATE (realm B takes the granule)",
                C::DATA_CREATE,
                &[b.rd, p, B_REUSED_DATA_IPA, src, 0],
                OK,
            )?;
        }
        Race::SetRipasAlone => {
            h.expect(
                "RTT_SET_RIPAS (EMPTY)",
                C::RTT_SET_RIPAS,
                &[rd, l.realm.recs[0], TARGET_IPA, TARGET_IPA + G],
                OK,
            )?;
        }
        Race::RttCreateUnfold => {
            h.expect(
                "RTT_CREATE (unfold)",
                C::RTT_CREATE,
                &[rd, extras.unfold_table, NS_BLOCK_IPA, 3],
                OK,
            )?;
        }
    }
    Ok(())
}

/// The rec_exit fields a race looks at.
struct Exit {
    exit_reason: u64,
    esr: u64,
    fault_ipa: u64,
    ripas: (u64, u64, u64),
}

fn read_exit<Cd: Conduit, M: HostMemory>(h: &Host<'_, Cd, M>, run: u64) -> Exit {
    let at = |off: usize| h.read_word(run + (RMI_REC_EXIT_OFFSET + off) as u64, 0);
    let hpfar = at(core::mem::offset_of!(RmiRecExit, hpfar));
    Exit {
        exit_reason: at(core::mem::offset_of!(RmiRecExit, exit_reason)) & 0xFF,
        esr: at(core::mem::offset_of!(RmiRecExit, esr)),
        // HPFAR_EL2.FIPA (bits 43:4) holds IPA[51:12].
        fault_ipa: (hpfar >> 4 & ((1 << 40) - 1)) << 12,
        ripas: (
            at(core::mem::offset_of!(RmiRecExit, ripas_base)),
            at(core::mem::offset_of!(RmiRecExit, ripas_top)),
            at(core::mem::offset_of!(RmiRecExit, ripas_value)) & 0xFF,
        ),
    }
}

fn read_flags<Cd: Conduit, M: HostMemory>(h: &Host<'_, Cd, M>, page: u64) -> [u64; iso::WORDS] {
    let mut f = [0u64; iso::WORDS];
    h.read_words(page, &mut f);
    f
}

/// ESR_EL2.EC of a data abort from a lower exception level.
const EC_DABT_LOWER: u64 = 0x24;
/// ESR_EL1.EC of a data abort taken without a change of exception level (the injected SEA).
const EC_DABT_SAME_EL: u64 = 0x25;
/// ESR.ISS.EA: an external abort.
const ESR_EA: u64 = 1 << 9;

/// How the racer's run ended, from its exit and the flag page.
fn classify(race: Race, enter_status: u64, e: &Exit, flags: &[u64; iso::WORDS]) -> End {
    if enter_status != OK.raw() {
        return End::Unexpected("REC_ENTER failed");
    }
    if flags[iso::FIRST_READ] != TARGET_INITIAL {
        return End::Unexpected("the first touch did not find the target's initial contents");
    }
    let sync = e.exit_reason == RmiExitReason::Sync as u64;
    if sync && e.esr >> 26 == EC_DABT_LOWER {
        return if e.fault_ipa == race.target() {
            End::Faulted
        } else {
            End::Unexpected("a data abort at another IPA")
        };
    }
    if e.exit_reason != RmiExitReason::Psci as u64 {
        return End::Unexpected("an exit other than a data abort or SYSTEM_OFF");
    }
    match flags[iso::STATUS] {
        iso::STATUS_REACHED => {}
        iso::STATUS_SEA => {
            let esr = flags[iso::SEA_ESR];
            let at_target =
                flags[iso::SEA_FAR] & !(hostcall_abi::GRANULE_SIZE as u64 - 1) == race.target();
            return if esr >> 26 == EC_DABT_SAME_EL && esr & ESR_EA != 0 && at_target {
                End::SeaInjected
            } else {
                End::Unexpected("an exception other than an SEA at the target")
            };
        }
        iso::STATUS_TIMED_OUT => return End::Unexpected("the realm saw no GO"),
        _ => return End::Unexpected("SYSTEM_OFF before the accesses after GO"),
    }
    let own = flags[iso::SECOND_READ] == TARGET_INITIAL && flags[iso::OWN_READ] == iso::TOUCH_VALUE;
    if own && race.keeps_mapping() {
        End::SameData
    } else {
        End::ReachedReused
    }
}

/// Takes both realms apart after a race that passed and undelegates every granule.
fn teardown<Cd: Conduit, M: HostMemory>(
    h: &mut Host<'_, Cd, M>,
    race: Race,
    l: &Loaded,
    b: &OtherRealm,
    extras: &Extras,
    granules: &Granules,
) -> Result<(), Failure> {
    let rd = l.realm.rd;
    let unmap = |h: &mut Host<'_, Cd, M>, ipa: u64, level: u64| {
        h.expect(
            "RTT_UNMAP_UNPROTECTED (teardown)",
            C::RTT_UNMAP_UNPROTECTED,
            &[rd, ipa, level],
            OK,
        )
        .map(|_| ())
    };
    // Realm A's protected extras.
    match race {
        Race::DataDestroy => {
            h.expect(
                "RTT_DESTROY (the reused granule)",
                C::RTT_DESTROY,
                &[rd, REUSED_RTT_IPA, 3],
                OK,
            )?;
        }
        Race::RttDestroy => {}
        Race::SetRipas => {}
        _ => {
            h.expect(
                "DATA_DESTROY (target)",
                C::DATA_DESTROY,
                &[rd, TARGET_IPA],
                OK,
            )?;
        }
    }
    if race != Race::RttDestroy {
        h.expect(
            "RTT_DESTROY (target table)",
            C::RTT_DESTROY,
            &[rd, TARGET_TABLE_IPA, 3],
            OK,
        )?;
    }
    // Realm A's unprotected side.
    unmap(h, FLAGS_IPA, 3)?;
    if race != Race::UnmapUnprotected {
        unmap(h, NS_TARGET_IPA, 3)?;
    }
    h.expect(
        "RTT_DESTROY (unprotected level 3)",
        C::RTT_DESTROY,
        &[rd, UNPROTECTED, 3],
        OK,
    )?;
    if race.uses_block() {
        if race == Race::RttCreateUnfold {
            h.expect(
                "RTT_FOLD (teardown)",
                C::RTT_FOLD,
                &[rd, NS_BLOCK_IPA, 3],
                OK,
            )?;
        }
        unmap(h, NS_BLOCK_IPA, 2)?;
    }
    h.expect(
        "RTT_DESTROY (unprotected level 2)",
        C::RTT_DESTROY,
        &[rd, UNPROTECTED, 2],
        OK,
    )?;
    realm_run::unload(h, l)?;
    // Realm B.
    h.expect(
        "DATA_DESTROY (realm B)",
        C::DATA_DESTROY,
        &[b.rd, B_MARKER_IPA],
        OK,
    )?;
    if matches!(
        race,
        Race::RttDestroy | Race::SetRipas | Race::RttDestroyUnprotected
    ) {
        h.expect(
            "DATA_DESTROY (realm B's reused granule)",
            C::DATA_DESTROY,
            &[b.rd, B_REUSED_DATA_IPA],
            OK,
        )?;
    }
    if race == Race::RttDestroy {
        h.expect(
            "RTT_DESTROY (realm B's reused granule)",
            C::RTT_DESTROY,
            &[b.rd, B_REUSED_RTT_IPA, 3],
            OK,
        )?;
    }
    for level in [3u64, 2] {
        h.expect(
            "RTT_DESTROY (realm B)",
            C::RTT_DESTROY,
            &[b.rd, 0, level],
            OK,
        )?;
    }
    h.expect("REALM_DESTROY (realm B)", C::REALM_DESTROY, &[b.rd], OK)?;
    for &pa in granules {
        // The folded table went back to NS during the race.
        if race == Race::RttFold && pa == extras.block_table {
            continue;
        }
        h.expect(
            "GRANULE_UNDELEGATE (race)",
            C::GRANULE_UNDELEGATE,
            &[pa],
            OK,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
