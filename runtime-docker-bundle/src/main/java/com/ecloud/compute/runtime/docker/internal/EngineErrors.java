package com.ecloud.compute.runtime.docker.internal;

import java.io.IOException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.ecloud.compute.api.runtime.RuntimeFailure;
import com.ecloud.compute.api.runtime.RuntimeNotFoundException;
import com.ecloud.compute.api.runtime.RuntimeRejectedException;
import com.ecloud.compute.api.runtime.RuntimeUnavailableException;
import com.github.dockerjava.api.exception.BadRequestException;
import com.github.dockerjava.api.exception.ConflictException;
import com.github.dockerjava.api.exception.DockerException;
import com.github.dockerjava.api.exception.NotFoundException;

/** Turns docker-java's exceptions into the SPI's typed failures. */
final class EngineErrors {

    private static final Pattern MESSAGE = Pattern.compile("\"message\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");

    private EngineErrors() {
    }

    /**
     * 404 is not found; other 4xx (bad request, conflict) are rejections; 5xx and failures to reach the engine
     * are unavailability (retrying later may help).
     */
    static RuntimeFailure map(String action, Throwable error) {
        if (error instanceof RuntimeFailure failure) return failure;
        if (error instanceof NotFoundException) {
            return new RuntimeNotFoundException(action + ": " + engineMessage(error), error);
        }
        if (error instanceof BadRequestException || error instanceof ConflictException) {
            return new RuntimeRejectedException(action + ": " + engineMessage(error), error);
        }
        if (error instanceof DockerException docker) {
            int status = docker.getHttpStatus();
            if (status >= 400 && status < 500) {
                return new RuntimeRejectedException(action + ": " + engineMessage(error), error);
            }
            return new RuntimeUnavailableException(action + ": the engine failed: " + engineMessage(error), error);
        }
        if (unreachable(error)) {
            return new RuntimeUnavailableException(action + ": the Docker engine cannot be reached (" + rootMessage(error) + ")", error);
        }
        return new RuntimeUnavailableException(action + ": " + rootMessage(error), error);
    }

    /** Whether {@code error} says that the engine could not be talked to at all. */
    static boolean unreachable(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof IOException) return true;
        }
        return false;
    }

    /** The engine's own message from a docker-java error ("Status 404: {"message":"..."}"). */
    static String engineMessage(Throwable error) {
        String text = String.valueOf(error.getMessage());
        Matcher matcher = MESSAGE.matcher(text);
        if (matcher.find()) {
            return matcher.group(1).replace("\\\"", "\"").replace("\\n", " ").trim();
        }
        return text.trim();
    }

    static String rootMessage(Throwable error) {
        Throwable root = error;
        while (root.getCause() != null && root.getCause() != root) root = root.getCause();
        return root.getClass().getSimpleName() + (root.getMessage() == null ? "" : ": " + root.getMessage());
    }
}
