//! Host tests of the RTT module, one file per concept, over an in-memory fake of RTT memory.

mod desc;
mod geometry;
mod table;
mod walk;

use std::collections::HashMap;

use hostcall_abi::rtt::RTT_ENTRIES;

use super::RttMemory;

/// RTTs held in a map from table PA to its 512 entries. Touching a table that was never added
/// panics, so a walk or scan that strays outside the tables a test built fails the test.
#[derive(Default)]
struct FakeRtts {
    tables: HashMap<u64, [u64; RTT_ENTRIES]>,
}

impl FakeRtts {
    /// Adds an RTT at `pa` with every entry `fill`.
    fn add(&mut self, pa: u64, fill: u64) {
        assert_eq!(pa % 4096, 0, "test bug: unaligned table");
        self.tables.insert(pa, [fill; RTT_ENTRIES]);
    }

    /// Entry `index` of the RTT at `pa`.
    fn get(&self, pa: u64, index: usize) -> u64 {
        self.read(pa, index)
    }

    /// Sets entry `index` of the RTT at `pa`.
    fn set(&mut self, pa: u64, index: usize, value: u64) {
        self.write(pa, index, value);
    }
}

impl RttMemory for FakeRtts {
    fn read(&self, table_pa: u64, index: usize) -> u64 {
        self.tables
            .get(&table_pa)
            .expect("read of a table the test never added")[index]
    }

    fn write(&mut self, table_pa: u64, index: usize, value: u64) {
        self.tables
            .get_mut(&table_pa)
            .expect("write to a table the test never added")[index] = value;
    }
}
