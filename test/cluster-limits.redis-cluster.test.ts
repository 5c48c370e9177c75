process.env.RELAY_TEST_BROKER = 'redis-cluster'; await import('./cluster-limits.test.js');
