import BlockingThreads

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Ends this process when the process that started it dies.
///
/// A parent that is killed with SIGKILL (or crashes) runs no clean-up, and its children are
/// handed to init and run on: a test run that died left workers, schedulers and servers behind.
/// `PR_SET_PDEATHSIG` would not do: it fires when the parent *thread* that spawned us ends, and a
/// Swift parent spawns from whichever pool thread it happens to be on. So the child watches
/// instead: ``ChildProcess`` puts the parent's pid in ``environmentVariable``, and a child that
/// calls ``startIfAsked()`` checks twice a second whether it has been handed to another parent.
/// Then it stops itself the way an operator would (SIGTERM: roles shut down gracefully), and
/// with SIGKILL if that has not ended it within ``gracePeriodSeconds``.
public enum ParentWatch {
    public static let environmentVariable = "FASTEST_SHOP_PARENT_PID"
    public static let gracePeriodSeconds: UInt32 = 15

    /// Starts watching when our environment names our parent. A live process that is not our
    /// parent (the variable was passed on through a program that is not a ``ChildProcess``) is
    /// ignored; a parent that died before we got here ends us at once. The variable is removed
    /// either way, so our own children never inherit it.
    public static func startIfAsked() {
        guard let value = getenv(environmentVariable).map({ String(cString: $0) }), let expected = pid_t(value) else { return }
        unsetenv(environmentVariable)
        // A parent killed a moment ago may still be a zombie that its own parent has not reaped:
        // it answers kill(0) but is gone, and we have been handed to another parent already.
        if getppid() != expected, isRunning(expected) { return }
        DedicatedThread(name: "parent-watch").submit {
            while getppid() == expected { usleep(500_000) }
            kill(getpid(), SIGTERM)
            sleep(gracePeriodSeconds)
            kill(getpid(), SIGKILL)
        }
    }

    /// Whether `pid` names a process that has not ended: it exists and is not a zombie.
    public static func isRunning(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0 || errno == EPERM else { return false }
        guard let file = fopen("/proc/\(pid)/stat", "r") else { return false }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 512)
        guard fgets(&buffer, Int32(buffer.count), file) != nil else { return false }
        let line = String(cString: buffer)
        // The state follows the command name, which is in parentheses and may itself hold ") ".
        guard let close = line.lastIndex(of: ")") else { return false }
        return !line[line.index(after: close)...].hasPrefix(" Z")
    }
}
