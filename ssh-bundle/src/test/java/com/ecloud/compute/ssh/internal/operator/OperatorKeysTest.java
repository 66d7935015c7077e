package com.ecloud.compute.ssh.internal.operator;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.security.KeyPairGenerator;
import java.security.interfaces.ECPublicKey;

import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.junit.jupiter.api.Test;

class OperatorKeysTest {

    private static String ecLine(String comment) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(256);
        ECPublicKey key = (ECPublicKey) g.generateKeyPair().getPublic();
        return PublicKeyEntry.toString(key) + " " + comment;
    }

    @Test
    void oneValueMayHoldSeveralKeysAndJunkIsSkipped() throws Exception {
        String a = ecLine("a@ops");
        String b = ecLine("b@ops");
        assertEquals(2, OperatorShell.parseKeys(new String[] { a + ", " + b }).size());
        assertEquals(2, OperatorShell.parseKeys(new String[] { a, "", "not a key", b }).size());
        assertEquals(0, OperatorShell.parseKeys(new String[0]).size());
        assertEquals(0, OperatorShell.parseKeys(null).size());
    }
}
