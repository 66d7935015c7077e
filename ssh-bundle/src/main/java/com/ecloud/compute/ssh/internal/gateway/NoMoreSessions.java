package com.ecloud.compute.ssh.internal.gateway;

import org.apache.sshd.common.AttributeRepository.AttributeKey;
import org.apache.sshd.common.channel.RequestHandler;
import org.apache.sshd.common.session.ConnectionService;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.session.helpers.AbstractConnectionServiceRequestHandler;
import org.apache.sshd.common.util.buffer.Buffer;

/**
 * {@code no-more-sessions@openssh.com} as OpenSSH's sshd means it: no further "session" channels on this
 * connection, while forwarded ports keep opening channels. (MINA's own handler refuses every channel type, which
 * breaks {@code ssh -L}: the OpenSSH client sends this request on every connection that is not a multiplexing
 * master.)
 */
final class NoMoreSessions extends AbstractConnectionServiceRequestHandler {

    static final String REQUEST = "no-more-sessions@openssh.com";

    private static final AttributeKey<Boolean> REQUESTED = new AttributeKey<>();

    /** Whether the client of {@code session} has asked for no more session channels. */
    static boolean requested(Session session) {
        return Boolean.TRUE.equals(session.getAttribute(REQUESTED));
    }

    @Override
    public RequestHandler.Result process(ConnectionService connectionService, String request, boolean wantReply,
            Buffer buffer) throws Exception {
        if (!REQUEST.equals(request)) return super.process(connectionService, request, wantReply, buffer);
        connectionService.getSession().setAttribute(REQUESTED, Boolean.TRUE);
        return RequestHandler.Result.ReplySuccess;
    }
}
