package com.ecloud.compute.runtime.contract;

/**
 * What a finished exec process produced.
 *
 * @param exitCode its exit code
 * @param stdout   standard output (with a tty: everything)
 * @param stderr   standard error (empty with a tty)
 */
public record ExecResult(int exitCode, String stdout, String stderr) {

    @Override
    public String toString() {
        return "exit " + exitCode + ", stdout [" + stdout + "], stderr [" + stderr + "]";
    }
}
