package com.ecloud.compute.api.runtime;

/**
 * Which log lines to stream.
 *
 * @param tail   how many of the latest lines to send first (0 for none)
 * @param follow whether to keep streaming new lines until the container stops or the stream is closed
 */
public record LogRequest(int tail, boolean follow) {
}
