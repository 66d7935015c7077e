package com.ecloud.compute.launcher.shutdown;

import java.util.concurrent.TimeUnit;

import org.osgi.framework.BundleActivator;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.launch.Framework;

/**
 * Stops the framework when the JVM is asked to exit (SIGTERM from a service manager, Ctrl-C), so that every
 * component is deactivated (HTTP closed, store closed) instead of the process simply vanishing. bnd's launcher
 * registers no such hook itself.
 * <p>
 * An "embedded activator" of bnd's launcher: this class travels in its own small jar on the launcher's run path
 * ({@code -runpath} in compute.bndrun, {@code Embedded-Activator} in that jar's manifest), not at the top of the
 * executable jar, so it is loaded next to the framework and sees the same {@code org.osgi.framework} classes.
 */
public final class StopFrameworkOnExit implements BundleActivator {

    /** How long a stop may take before the JVM exits anyway. */
    static final long STOP_TIMEOUT_SECONDS = 30;

    private Thread hook;

    @Override
    public void start(BundleContext systemContext) {
        Framework framework = (Framework) systemContext.getBundle(Constants.SYSTEM_BUNDLE_LOCATION);
        hook = new Thread(() -> stop(framework), "ecloud-stop-framework");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    @Override
    public void stop(BundleContext systemContext) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException alreadyShuttingDown) {
            // the hook is running or has run
        }
    }

    private static void stop(Framework framework) {
        try {
            framework.stop();
            framework.waitForStop(TimeUnit.SECONDS.toMillis(STOP_TIMEOUT_SECONDS));
        } catch (Exception | LinkageError e) {
            System.err.println("ecloud-compute: could not stop the framework cleanly: " + e);
        }
    }
}
