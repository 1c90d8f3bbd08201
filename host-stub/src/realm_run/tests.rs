//! Loading and unloading a realm against the RMM's real handlers on the simulated platform
//! (running it is tested with the KVM model, `kvm::tests`).

use super::*;
use crate::realm_build::Pool;
use crate::rmi::RmiClient;
use crate::testing::SimHost;
use rmm::sim::Sim;

#[test]
fn load_then_unload_returns_every_granule() {
    let sim = Sim::qemu();
    let mut rmi = RmiClient::new(SimHost(&sim));
    let mut mem = SimHost(&sim);
    let mut h = Host::new(&mut rmi, &mut mem);
    let mut pool = Pool::new(0x6400_0000, 0x10_0000);
    let image = [0xAAu8; 5000]; // two pages of "code"
    let l = load(&mut h, &mut pool, &image, 9).expect("load");
    assert_eq!(l.image_pages, 2);
    for &pa in &l.data {
        assert!(sim.el3.is_realm(pa), "{pa:#x} is realm DATA");
    }
    unload(&mut h, &l).expect("unload");
    for &pa in &l.realm.delegated[..l.realm.num_delegated] {
        assert!(!sim.el3.is_realm(pa), "{pa:#x} back with the host");
    }
}

#[test]
fn an_image_larger_than_the_region_is_refused() {
    let sim = Sim::qemu();
    let mut rmi = RmiClient::new(SimHost(&sim));
    let mut mem = SimHost(&sim);
    let mut h = Host::new(&mut rmi, &mut mem);
    let mut pool = Pool::new(0x6400_0000, 0x10_0000);
    let image = vec![0u8; REGION_SIZE as usize + 1];
    assert!(load(&mut h, &mut pool, &image, 9).is_err());
    assert!(load(&mut h, &mut pool, &[], 9).is_err());
}
