//! Limits and pool sizes.

use std::time::Duration;

use livewasm_protocol::limits::RenderLimits;

/// How the runtime sizes its pool and fences guest calls.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Component instances the pool holds at once (one per connected view, plus dead renders).
    pub max_instances: u32,
    /// Linear memory cap per instance, in bytes.
    pub memory_limit: usize,
    /// Fuel given to each callback (about 0.05 ns of guest work per unit).
    pub fuel_per_callback: u64,
    /// Wall-clock limit per callback, enforced with epochs.
    pub callback_deadline: Duration,
    /// How often the epoch advances.
    pub epoch_tick: Duration,
    /// Bytes of linear memory (and an eighth of that of tables) a freed pool slot keeps resident
    /// and wipes itself, so the next instance in that slot starts on warm pages. 0 by default:
    /// a freed slot hands its pages back to the kernel, so the slot of a hibernated view costs
    /// nothing (at 256 KiB, every slot ever used kept 256 KiB: 1,000 hibernated thermostats
    /// held 238 KiB each instead of 38). The price, measured with `examples/mount_profile`:
    /// a thermostat mount's guest `mount` call takes about 15.5 µs instead of 9 µs (its pages
    /// faulted in again). Hosts whose views never hibernate may set 256 KiB.
    pub keep_resident_bytes: usize,
    /// How deep and how large a render may be ([`RenderLimits::default`] unless set): checked
    /// on the guest's flat result before any diff or HTML work; a render over a limit fails its
    /// view (`CallError::Render`), never the host.
    pub render_limits: RenderLimits,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            max_instances: 1000,
            memory_limit: 16 << 20,
            fuel_per_callback: 2_000_000_000,
            callback_deadline: Duration::from_secs(2),
            epoch_tick: Duration::from_millis(10),
            keep_resident_bytes: 0,
            render_limits: RenderLimits::default(),
        }
    }
}
