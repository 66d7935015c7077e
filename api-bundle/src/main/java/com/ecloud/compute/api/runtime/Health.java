package com.ecloud.compute.api.runtime;

/** Whether a runtime host can take work. */
public enum Health {
    /** The engine answers and can run containers. */
    HEALTHY,
    /** The engine was reached before but fails now; work for it must wait or go elsewhere. */
    UNHEALTHY,
    /** The engine has not been reached yet (starting, or never available). */
    UNDETECTED
}
