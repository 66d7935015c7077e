package com.ecloud.compute.store.internal;

/** The store on an embedded H2 file database in a temporary directory, opened like the default configuration. */
class H2StoreTest extends AbstractStoreTest {

    @Override
    TestDatabase openDatabase() throws Exception {
        return TestDatabase.h2();
    }
}
