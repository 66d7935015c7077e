package com.ecloud.compute.api.runtime;

/** The engine refused the request; retrying it unchanged will not help. */
public class RuntimeRejectedException extends RuntimeFailure {
    private static final long serialVersionUID = 1L;

    public RuntimeRejectedException(String message) {
        super(message, null);
    }

    public RuntimeRejectedException(String message, Throwable cause) {
        super(message, cause);
    }
}
