package com.ecloud.compute.gateway.internal.proxy;

import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;

/**
 * Netty's response encoder, told by the proxy whether the response being written answers a HEAD request: such a
 * response has no body even when it says Transfer-Encoding: chunked (HttpServerCodec knows this by itself, but we
 * need our own request decoder, so we keep the encoder separate).
 */
final class ClientResponseEncoder extends HttpResponseEncoder {
    private boolean answeringHead;

    /** Set before writing a response head; read while encoding that head (same event loop, same call). */
    void answeringHead(boolean head) {
        this.answeringHead = head;
    }

    @Override
    protected boolean isContentAlwaysEmpty(HttpResponse msg) {
        return answeringHead || super.isContentAlwaysEmpty(msg);
    }
}
