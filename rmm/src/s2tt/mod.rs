//! Stage-2 translation tables (RTTs): entry formats, geometry, RIPAS/HIPAS.
