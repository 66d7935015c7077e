package com.ecloud.compute.itest.harness;

import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * One platform process per test class: {@code @RegisterExtension static PlatformExtension platform = ...}.
 * Started before the class's tests (after checking the engine and the builtin images), closed after them;
 * a failed test gets the tail of the platform's log printed beside it.
 */
public final class PlatformExtension implements BeforeAllCallback, AfterAllCallback, TestWatcher {

    public static final String[] BUILTIN_ENGINE_IMAGES = {
        "ecloud/debian:bookworm-amd64", "ecloud/debian:bookworm-arm64",
        "ecloud/busybox:latest-amd64", "ecloud/busybox:latest-arm64"};

    private final Map<String, Map<String, String>> config = new LinkedHashMap<>();
    private PlatformProcess process;

    /** Extra configuration: {@code etc/<pid>.cfg} with these properties. */
    public PlatformExtension config(String pid, Map<String, String> properties) {
        config.put(pid, properties);
        return this;
    }

    public PlatformProcess get() {
        if (process == null) throw new IllegalStateException("the platform has not been started");
        return process;
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        Engines.requireDocker();
        for (String image : BUILTIN_ENGINE_IMAGES) Engines.requireImage(image);
        process = PlatformProcess.prepare(context.getRequiredTestClass().getSimpleName(), config);
        try {
            process.start();
        } catch (RuntimeException | AssertionError e) {
            System.err.println(process.logTail(120));
            throw e;
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (process == null) return;
        if (context.getExecutionException().isPresent()) System.err.println(process.logTail(120));
        process.close();
    }

    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
        if (process != null) {
            System.err.println("[itest] " + context.getDisplayName() + " failed; platform log:\n" + process.logTail(40));
        }
    }
}
