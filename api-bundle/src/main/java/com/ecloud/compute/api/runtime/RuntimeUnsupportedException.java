package com.ecloud.compute.api.runtime;

/** This runtime cannot do what was asked. */
public class RuntimeUnsupportedException extends RuntimeFailure {
    private static final long serialVersionUID = 1L;

    public RuntimeUnsupportedException(String message) {
        super(message, null);
    }

    public RuntimeUnsupportedException(String message, Throwable cause) {
        super(message, cause);
    }
}
