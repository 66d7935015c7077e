package com.ecloud.compute.gateway.internal.proxy;

import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequestDecoder;

/**
 * Netty's request decoder, except that a request with both Content-Length and Transfer-Encoding: chunked is marked
 * failed instead of silently dropping Content-Length (Netty's RFC 7230 default): a proxy in front of other parsers
 * must refuse such a request, it is the classic request smuggling vector.
 */
final class ClientRequestDecoder extends HttpRequestDecoder {

    ClientRequestDecoder(int maxHeaderBytes) {
        super(new HttpDecoderConfig()
                .setMaxInitialLineLength(maxHeaderBytes)
                .setMaxHeaderSize(maxHeaderBytes)
                .setMaxChunkSize(64 * 1024)
                .setAllowDuplicateContentLengths(false)
                .setStrictLineParsing(true));
    }

    @Override
    protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {
        message.setDecoderResult(DecoderResult.failure(new RefusedRequestException(
                "the request has both Content-Length and Transfer-Encoding")));
    }

    /** A framing problem found by the decoder; its message is the one-line reason sent to the client. */
    static final class RefusedRequestException extends Exception {
        RefusedRequestException(String message) {
            super(message, null, false, false);
        }
    }
}
