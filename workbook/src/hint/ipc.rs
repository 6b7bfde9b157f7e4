//! Hints for the IPC calls of chapter 11: msgget(2), mq_open(3), and the
//! mount(2) of an mqueue filesystem.

use nix::errno::Errno;

use crate::machine::Facts;

/// The hint for `call` failing with `errno`, if it is an IPC refusal this
/// module knows; `None` leaves the call to the general arms.
pub(super) fn hint(call: &str, errno: Errno, facts: &Facts) -> Option<String> {
    let name = super::call_name(call);
    let hint = match (name, errno) {
        // msgget(2), ERRORS: "No message queue exists for key and msgflg did
        // not specify IPC_CREAT". ipc_namespaces(7): keys are per namespace.
        ("msgget", Errno::ENOENT) => {
            "no message queue has that key in this process's IPC namespace: keys are per IPC \
             namespace (ipc_namespaces(7)), so a queue made in another one is not found here. \
             Look from a process in the namespace that made it, or create the queue with \
             IPC_CREAT"
        }
        // msgget(2), ERRORS: IPC_CREAT and IPC_EXCL, and the key is taken.
        ("msgget", Errno::EEXIST) => {
            "a queue with that key already exists in this IPC namespace, and IPC_EXCL asks for \
             a new one: pick another key (`ipcs -q` lists them), remove the old queue with \
             msgctl(msqid, IPC_RMID, NULL) if it is yours, or create it in a new IPC namespace \
             (unshare(CLONE_NEWIPC))"
        }
        ("msgget", Errno::EACCES) => {
            "the queue exists but its permissions do not let you have it (msgget(2)); its \
             owner and mode are in /proc/sysvipc/msg"
        }
        // mq_open(3), ERRORS.
        ("mq_open", Errno::ENOENT) => {
            "no POSIX message queue has that name in this process's IPC namespace (O_CREAT \
             was not given): queues are per IPC namespace (mq_overview(7)); a name is one \
             slash and a name, like \"/ch11\""
        }
        ("mq_open", Errno::EEXIST) => {
            "O_CREAT | O_EXCL and the queue already exists in this IPC namespace: mq_unlink(3) \
             it if it is yours, or use another name"
        }
        ("mq_open", Errno::EINVAL) => {
            "the name is not one slash then a name, or mq_maxmsg/mq_msgsize exceed \
             /proc/sys/fs/mqueue/msg_max and msgsize_max (mq_open(3)). With nix 0.32, \
             `mq_open(name, O_CREAT | .., mode, None)` makes the two-argument C call, and \
             with O_CREAT glibc reads garbage for the mode and the attributes (undefined \
             behaviour; on Linux 6.18 that gave EINVAL): pass \
             `Some(&MqAttr::new(0, 4, 64, 0))`"
        }
        // fs/mqueue.c, mqueue_init_fs_context: the new mount belongs to the
        // user namespace that owns the MOUNTER's IPC namespace, and mount(2)
        // then needs CAP_SYS_ADMIN there (checked on this kernel, 6.18: in a
        // user and mount namespace of one's own, without a new IPC
        // namespace, the mount gives EPERM).
        ("mount", Errno::EPERM) if call.contains("\"mqueue\"") => {
            return Some(mqueue_eperm(facts));
        }
        _ => return None,
    };
    Some(hint.into())
}

fn mqueue_eperm(facts: &Facts) -> String {
    let who = match facts.cap_sys_admin {
        true => {
            "You have CAP_SYS_ADMIN here, but not in the user namespace that owns \
                 your IPC namespace (the host's, if you made none)"
        }
        false => {
            "Without root, only an IPC namespace your own user namespace owns will do"
        }
    };
    format!(
        "an mqueue filesystem shows the IPC namespace of the process that mounts it, and \
         mounting it needs CAP_SYS_ADMIN in the user namespace that owns that IPC namespace \
         (mq_overview(7), ipc_namespaces(7)). {who}: unshare(CLONE_NEWIPC) first, then mount"
    )
}
