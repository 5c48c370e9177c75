process.env.RELAY_TEST_PUBSUB = 'redis-cluster'; await import('./ws-pins.test.js');
