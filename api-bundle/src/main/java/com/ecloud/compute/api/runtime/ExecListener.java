package com.ecloud.compute.api.runtime;

import org.osgi.annotation.versioning.ConsumerType;

/** Receives the output of an exec process. */
@ConsumerType
public interface ExecListener {

    /** Output bytes; {@code stderr} is always false with a tty. */
    void onOutput(byte[] data, boolean stderr);

    /** The process ended with {@code exitCode}, or the session failed ({@code exitCode} null, error set). */
    void onExit(Integer exitCode, Throwable error);
}
