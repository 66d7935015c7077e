package com.ecloud.compute.api.runtime;

/** The engine cannot be reached or is overloaded; retrying later may succeed. */
public class RuntimeUnavailableException extends RuntimeFailure {
    private static final long serialVersionUID = 1L;

    public RuntimeUnavailableException(String message) {
        super(message, null);
    }

    public RuntimeUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
