process.env.RELAY_TEST_PUBSUB = 'redis-cluster'; await import('./cluster-presence.test.js');
