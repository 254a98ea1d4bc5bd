// The few punt API calls bench/run.sh makes (docs/openapi.yaml).
//
//   node api.js org BASE ADMIN_KEY          prints "ORG_ID API_KEY"
//   node api.js sub BASE KEY JSON           creates a subscription, prints its id
//   node api.js patch BASE KEY SUB JSON     changes a subscription
//   node api.js counts BASE KEY SUB         prints its delivery counts (JSON)
'use strict';
const { expect, run } = require('./http');

async function main() {
  const [cmd, base, key, ...rest] = process.argv.slice(2);
  if (cmd === 'org') {
    const res = await expect(201, 'POST', `${base}/v1/orgs`, {
      key, json: { name: 'Bench', platform_url: 'https://bench.example' } });
    console.log(`${res.json.id} ${res.json.api_key}`);
  } else if (cmd === 'sub') {
    const res = await expect(201, 'POST', `${base}/v1/subscriptions`, { key, json: JSON.parse(rest[0]) });
    console.log(res.json.id);
  } else if (cmd === 'patch') {
    await expect(200, 'PATCH', `${base}/v1/subscriptions/${rest[0]}`, { key, json: JSON.parse(rest[1]) });
  } else if (cmd === 'counts') {
    const res = await expect(200, 'GET', `${base}/v1/subscriptions/${rest[0]}`, { key });
    console.log(JSON.stringify(res.json.deliveries));
  } else {
    throw new Error('usage: node api.js org|sub|patch|counts BASE KEY ...');
  }
}

run(main);
