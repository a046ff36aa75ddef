//! scry-driver.
