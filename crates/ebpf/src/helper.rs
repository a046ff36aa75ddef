//! Kernel helper function ids (`enum bpf_func_id` in `include/uapi/linux/bpf.h`).

pub const MAP_LOOKUP_ELEM: i32 = 1;
pub const MAP_UPDATE_ELEM: i32 = 2;
pub const MAP_DELETE_ELEM: i32 = 3;
pub const PROBE_READ: i32 = 4;
pub const KTIME_GET_NS: i32 = 5;
pub const GET_PRANDOM_U32: i32 = 7;
pub const GET_SMP_PROCESSOR_ID: i32 = 8;
pub const GET_CURRENT_PID_TGID: i32 = 14;
pub const GET_CURRENT_UID_GID: i32 = 15;
pub const GET_CURRENT_COMM: i32 = 16;
pub const PERF_EVENT_OUTPUT: i32 = 25;
pub const GET_STACKID: i32 = 27;
pub const GET_CURRENT_TASK: i32 = 35;
pub const GET_NUMA_NODE_ID: i32 = 42;
pub const PROBE_READ_STR: i32 = 45;
pub const GET_STACK: i32 = 67;
pub const GET_CURRENT_CGROUP_ID: i32 = 80;
pub const SEND_SIGNAL: i32 = 109;
pub const PROBE_READ_USER: i32 = 112;
pub const PROBE_READ_KERNEL: i32 = 113;
pub const PROBE_READ_USER_STR: i32 = 114;
pub const PROBE_READ_KERNEL_STR: i32 = 115;
pub const JIFFIES64: i32 = 118;
pub const KTIME_GET_BOOT_NS: i32 = 125;
pub const RINGBUF_OUTPUT: i32 = 130;
pub const GET_CURRENT_TASK_BTF: i32 = 158;
pub const GET_FUNC_IP: i32 = 173;
pub const GET_ATTACH_COOKIE: i32 = 174;
pub const FOR_EACH_MAP_ELEM: i32 = 164;
pub const LOOP: i32 = 181;
pub const MAP_LOOKUP_PERCPU_ELEM: i32 = 195;

/// The helper's name as the kernel spells it (`bpf_map_lookup_elem`), for listings.
pub fn name(id: i32) -> Option<&'static str> {
    Some(match id {
        MAP_LOOKUP_ELEM => "map_lookup_elem",
        MAP_UPDATE_ELEM => "map_update_elem",
        MAP_DELETE_ELEM => "map_delete_elem",
        PROBE_READ => "probe_read",
        KTIME_GET_NS => "ktime_get_ns",
        GET_PRANDOM_U32 => "get_prandom_u32",
        GET_SMP_PROCESSOR_ID => "get_smp_processor_id",
        GET_CURRENT_PID_TGID => "get_current_pid_tgid",
        GET_CURRENT_UID_GID => "get_current_uid_gid",
        GET_CURRENT_COMM => "get_current_comm",
        PERF_EVENT_OUTPUT => "perf_event_output",
        GET_STACKID => "get_stackid",
        GET_CURRENT_TASK => "get_current_task",
        GET_NUMA_NODE_ID => "get_numa_node_id",
        PROBE_READ_STR => "probe_read_str",
        GET_STACK => "get_stack",
        GET_CURRENT_CGROUP_ID => "get_current_cgroup_id",
        SEND_SIGNAL => "send_signal",
        PROBE_READ_USER => "probe_read_user",
        PROBE_READ_KERNEL => "probe_read_kernel",
        PROBE_READ_USER_STR => "probe_read_user_str",
        PROBE_READ_KERNEL_STR => "probe_read_kernel_str",
        JIFFIES64 => "jiffies64",
        KTIME_GET_BOOT_NS => "ktime_get_boot_ns",
        RINGBUF_OUTPUT => "ringbuf_output",
        GET_CURRENT_TASK_BTF => "get_current_task_btf",
        GET_FUNC_IP => "get_func_ip",
        GET_ATTACH_COOKIE => "get_attach_cookie",
        LOOP => "loop",
        FOR_EACH_MAP_ELEM => "for_each_map_elem",
        MAP_LOOKUP_PERCPU_ELEM => "map_lookup_percpu_elem",
        _ => return None,
    })
}
