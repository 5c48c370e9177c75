/**
 * One fixed Web Push key pair (made once with web-push's generateVAPIDKeys) for the nodes of the
 * tests' clusters and the configuration tests: config.ts refuses a cluster without a shared pair.
 * A test key only: never used outside the tests.
 */
export const TEST_VAPID = {
  VAPID_PUBLIC_KEY: 'BJFijCtdHrEl6eAvUJgm98Kd-KV0U34YG-E75RAqb5qHj4NUkyObHHqsU3RuNmMaySHHS4HCvsdjagHmxZSyNc8',
  VAPID_PRIVATE_KEY: '6B6yX74QrHSHxCXGBSxyci6NJ9MY21XTFkst5GLIYzo',
} as const;
