package com.ecloud.compute.api.runtime;

import org.osgi.annotation.versioning.ProviderType;

/** A running exec process. Closing it ends the process (no orphans are left in the container). */
@ProviderType
public interface ExecSession extends AutoCloseable {

    /** Sends bytes to the process's standard input. */
    void write(byte[] data);

    /** Closes the process's standard input (end of file). */
    void closeInput();

    /** Resizes the pseudo-terminal; ignored without a tty. */
    void resize(int cols, int rows);

    /** Ends the session, killing the process if it still runs. */
    @Override
    void close();
}
