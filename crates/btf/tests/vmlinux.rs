//! Tests against the running kernel's `/sys/kernel/btf/vmlinux`.
//!
//! They skip when the file is unreadable, except under CI (`CI=true`) where it must exist.

use scry_btf::{Btf, Kind, Type};

fn vmlinux() -> Option<Btf> {
    match std::fs::read("/sys/kernel/btf/vmlinux") {
        Ok(bytes) => Some(Btf::parse(bytes).expect("vmlinux BTF parses")),
        Err(e) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI requires /sys/kernel/btf/vmlinux: {e}")
        }
        Err(e) => {
            eprintln!("skipping: /sys/kernel/btf/vmlinux unreadable: {e}");
            None
        }
    }
}

#[test]
fn task_struct_members() {
    let Some(btf) = vmlinux() else { return };
    let task = btf.find("task_struct", Kind::Struct).expect("task_struct");
    assert_eq!(btf.find_c_type("struct task_struct"), Some(task));
    let size = btf.size_of(task).unwrap();
    assert!(size > 1000, "task_struct is big, got {size}");

    let pid = btf.member(task, "pid").unwrap().expect("pid");
    assert_eq!(pid.bit_offset % 8, 0);
    assert_eq!(pid.bitfield_size, 0);
    assert_eq!(btf.type_name(pid.ty), "pid_t");
    assert_eq!(btf.size_of(pid.ty), Ok(4));

    let comm = btf.member(task, "comm").unwrap().expect("comm");
    assert_eq!(btf.type_name(comm.ty), "char[16]");
    assert_eq!(btf.size_of(comm.ty), Ok(16));

    let parent = btf
        .member(task, "real_parent")
        .unwrap()
        .expect("real_parent");
    assert_eq!(btf.type_name(parent.ty), "struct task_struct *");
    let pointee = match btf.get(btf.resolve(parent.ty).unwrap()).unwrap() {
        Type::Ptr { target } => btf.resolve(target).unwrap(),
        other => panic!("real_parent is {other:?}"),
    };
    assert_eq!(pointee, task);

    // `__state` and `pid` are direct; `rcu_users` lives in an anonymous union.
    assert!(btf.member(task, "__state").unwrap().is_some());
    let rcu_users = btf.member(task, "rcu_users").unwrap().expect("rcu_users");
    assert!(rcu_users.bit_offset > pid.bit_offset);
}

#[test]
fn sched_switch_raw_tracepoint() {
    let Some(btf) = vmlinux() else { return };
    let args = btf
        .raw_tracepoint_args("sched_switch")
        .unwrap()
        .expect("sched_switch");
    let decls: Vec<String> = args.iter().map(|p| btf.c_decl(p.ty, &p.name)).collect();
    assert_eq!(
        decls,
        [
            "bool preempt",
            "struct task_struct *prev",
            "struct task_struct *next",
            "unsigned int prev_state",
        ]
    );
}

#[test]
fn enums_functions_and_names() {
    let Some(btf) = vmlinux() else { return };
    assert_eq!(btf.enum_value("BPF_MAP_TYPE_HASH").unwrap().as_i64(), 1);
    assert_eq!(btf.enum_value("BPF_PROG_TYPE_KPROBE").unwrap().as_i64(), 2);
    let sig = btf.func_proto("vfs_read").unwrap().expect("vfs_read");
    let params: Vec<String> = sig
        .params
        .iter()
        .map(|p| btf.c_decl(p.ty, &p.name))
        .collect();
    assert_eq!(
        params,
        [
            "struct file *file",
            "char *buf",
            "size_t count",
            "loff_t *pos"
        ]
    );
    assert_eq!(btf.type_name(sig.ret), "ssize_t");
    let u32_ = btf.find_c_type("u32").expect("u32");
    assert_eq!(btf.size_of(u32_), Ok(4));
    assert!(btf.find_c_type("unsigned long").is_some());
    // Every type can be named and sized without panicking.
    for i in 0..btf.type_count() {
        let id = scry_btf::TypeId(i);
        assert!(!btf.type_name(id).is_empty());
        let _ = btf.size_of(id);
    }
}
