package com.ecloud.compute.api.runtime;

import java.util.List;
import java.util.Map;

/**
 * A process to run in a container.
 *
 * @param command argv; empty for the image's login shell
 * @param tty     whether to allocate a pseudo-terminal (stdout and stderr then arrive merged)
 * @param cols    terminal columns at start (with tty)
 * @param rows    terminal rows at start (with tty)
 * @param env     extra environment, e.g. TERM
 */
public record ExecSpec(List<String> command, boolean tty, int cols, int rows, Map<String, String> env) {

    /**
     * What every runtime runs for an empty command: the login shell of the exec's user (from /etc/passwd,
     * {@code /bin/sh} when it has none), started in its home directory.
     *
     * @since 1.2
     */
    public static final List<String> LOGIN_SHELL = List.of("/bin/sh", "-c", "u=$(id -un 2>/dev/null || echo root); "
            + "s=$(grep \"^$u:\" /etc/passwd 2>/dev/null | cut -d: -f7); [ -x \"$s\" ] || s=/bin/sh; "
            + "cd \"${HOME:-/}\" 2>/dev/null; exec \"$s\" -l");

    public ExecSpec {
        command = List.copyOf(command);
        env = Map.copyOf(env);
    }

    /**
     * The argv to run: {@link #command}, or {@link #LOGIN_SHELL} when it is empty.
     *
     * @since 1.2
     */
    public List<String> argv() {
        return command.isEmpty() ? LOGIN_SHELL : command;
    }
}
