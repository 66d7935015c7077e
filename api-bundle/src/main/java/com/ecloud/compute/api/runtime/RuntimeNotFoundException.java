package com.ecloud.compute.api.runtime;

/** The engine has no such container (or image). */
public class RuntimeNotFoundException extends RuntimeFailure {
    private static final long serialVersionUID = 1L;

    public RuntimeNotFoundException(String message) {
        super(message, null);
    }

    public RuntimeNotFoundException(String message, Throwable cause) {
        super(message, cause);
    }
}
