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

    public ExecSpec {
        command = List.copyOf(command);
        env = Map.copyOf(env);
    }
}
