package com.ecloud.compute.api.runtime;

/** Base of the runtime SPI's typed errors. The message is safe to show to the container's owner. */
public abstract class RuntimeFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    protected RuntimeFailure(String message, Throwable cause) {
        super(message, cause);
    }
}
