package com.ecloud.compute.itest.harness;

import java.net.http.WebSocket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * A WebSocket listener that assembles text messages and records the close: it asks for one message at a time,
 * or, when stalled, takes the first and then reads nothing more (a client that stopped reading).
 */
public abstract class TextRecorder implements WebSocket.Listener {

    /** "code reason" of the close; completed exceptionally when the socket failed. */
    public final CompletableFuture<String> closed = new CompletableFuture<>();
    private final StringBuilder partial = new StringBuilder();
    private final boolean stalled;

    protected TextRecorder(boolean stalled) {
        this.stalled = stalled;
    }

    /** One whole text message. */
    protected abstract void onMessage(String message);

    @Override
    public void onOpen(WebSocket ws) {
        ws.request(1);
    }

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
        partial.append(data);
        if (last) {
            onMessage(partial.toString());
            partial.setLength(0);
        }
        if (!stalled) ws.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int code, String reason) {
        closed.complete(code + " " + reason);
        return null;
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
        closed.completeExceptionally(error);
    }
}
