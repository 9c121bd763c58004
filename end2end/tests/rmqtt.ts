// A real external broker for the browser tests: `rmqtt-test-broker` (testing/rmqtt-broker/), rmqtt
// 0.24 with its auth-http, http-api and web-hook plugins, in a process of its own. It asks this
// test's keygate about every CONNECT through the webhooks, reports connects and disconnects to
// /webhooks/events, and takes keygate's revocations over its admin API.
//
// Environment:
//   KEYGATE_TEST_RMQTT_BIN  the binary, relative to the workspace root if relative (default:
//                           $CARGO_TARGET_DIR/debug/rmqtt-test-broker); build it with
//                           `cargo build -p rmqtt-test-broker` (scripts/test.sh does that)
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { connectDevice, type Device, type DeviceLogin } from './devices';
import { test as base, freePort, targetDir, WORKSPACE_ROOT } from './fixtures';

/** Keygate's `--webhook-secret` in these tests; the broker sends it with every webhook call. */
export const WEBHOOK_SECRET = 'e2e-webhook-secret-for-rmqtt';

/** How long the broker may take to print its ready line. */
const READY_WITHIN_MS = 60_000;

/** The `rmqtt-test-broker` binary, found as server/tests/integration/support/rmqtt.rs finds it. */
export function rmqttBin(): string {
  if (process.env.KEYGATE_TEST_RMQTT_BIN) {
    const bin = path.resolve(WORKSPACE_ROOT, process.env.KEYGATE_TEST_RMQTT_BIN);
    if (!fs.existsSync(bin)) {
      throw new Error(
        `KEYGATE_TEST_RMQTT_BIN=${bin} is not a file: build it with \`cargo build -p rmqtt-test-broker\``,
      );
    }
    return bin;
  }
  const bin = path.join(targetDir(), 'debug', 'rmqtt-test-broker');
  if (!fs.existsSync(bin)) {
    throw new Error(
      `the external-broker tests need the rmqtt-test-broker binary, and ${bin} does not exist. ` +
        'Build it with `cargo build -p rmqtt-test-broker` (scripts/test.sh e2e does that), or point ' +
        'KEYGATE_TEST_RMQTT_BIN at it.',
    );
  }
  return bin;
}

/** The broker target keygate knows `--broker-target rmqtt=http://127.0.0.1:PORT` by. */
export function rmqttTargetName(apiPort: number): string {
  return `rmqtt:127.0.0.1:${apiPort}`;
}

/** Keygate's arguments for an external rmqtt whose admin API listens on `apiPort`. */
export function rmqttTargetArgs(apiPort: number): string[] {
  return ['--webhook-secret', WEBHOOK_SECRET, '--broker-target', `rmqtt=http://127.0.0.1:${apiPort}`];
}

export interface RmqttOptions {
  /** Keygate's base URL. */
  keygate: string;
  /** The broker target name keygate knows it by (sent back as `?broker=NAME`). */
  name: string;
  /** The admin API's port on 127.0.0.1. */
  apiPort: number;
  /** MQTT's port on 127.0.0.1 (default: a free one, as when it starts again on the same port). */
  mqttPort?: number;
  /** Make the admin API require `Authorization: Bearer TOKEN` (rmqtt-http-api's `http_bearer_token`). */
  apiToken?: string;
}

/** A running `rmqtt-test-broker`. */
export interface Rmqtt {
  /** Where devices connect: MQTT 3.1.1 and 5 over TCP on 127.0.0.1. */
  mqttPort: number;
  /** The admin API's base URL, `http://127.0.0.1:PORT`. */
  api: string;
  /** What the broker wrote to stderr so far (rmqtt's warnings, e.g. failed webhook calls). */
  stderr(): string;
  /** Closes its stdin (it exits on EOF) and waits for it to exit; SIGKILL after 5 s. */
  stop(): Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Starts the broker and waits for its ready line, `{"mqtt":"127.0.0.1:PORT","api":"http://..."}`. */
export async function spawnRmqtt(options: RmqttOptions): Promise<Rmqtt> {
  const bin = rmqttBin();
  const args = [
    '--keygate',
    options.keygate,
    '--secret',
    WEBHOOK_SECRET,
    '--name',
    options.name,
    '--api',
    `127.0.0.1:${options.apiPort}`,
    '--mqtt',
    `127.0.0.1:${options.mqttPort ?? 0}`,
    ...(options.apiToken ? ['--api-token', options.apiToken] : []),
  ];
  // stdin stays piped and open: the broker exits when it reaches EOF, so it dies with the test run.
  const child = spawn(bin, args, {
    env: { ...process.env, RUST_LIB_BACKTRACE: '0', NO_COLOR: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-64 * 1024);
  });
  child.stdin!.on('error', () => undefined);

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.stdin!.end();
      const gone = await Promise.race([exited(child).then(() => true), sleep(5_000).then(() => false)]);
      if (!gone) {
        child.kill('SIGKILL');
        await exited(child);
      }
    }
  };

  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(
      () => reject(new Error(`no ready line within ${READY_WITHIN_MS / 1000} s`)),
      READY_WITHIN_MS,
    );
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      out += chunk;
      const end = out.indexOf('\n');
      if (end >= 0) {
        clearTimeout(timer);
        resolve(out.slice(0, end));
      }
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`it exited (${code ?? signal}) before it was ready`));
    });
  }).catch(async (error: Error) => {
    await stop();
    throw new Error(`${bin} did not start: ${error.message}. Its stderr:\n${stderr}`);
  });
  // Keep draining stdout: a full pipe would block the broker.
  child.stdout!.resume();

  const ready = JSON.parse(line) as { mqtt: string; api: string };
  const mqttPort = Number(ready.mqtt.split(':').pop());
  return { mqttPort, api: ready.api, stderr: () => stderr, stop };
}

/** What `test` from this file adds to the fixtures of fixtures.ts. */
export type RmqttFixtures = {
  /** A free port for the broker's admin API, known before keygate starts (its broker target). */
  rmqttApiPort: number;
  /**
   * Starts `rmqtt-test-broker` for this test's keygate (its webhook secret, the target name of
   * `rmqttTargetArgs`), again on the same ports when given `mqttPort`. Every broker started is
   * stopped after the test; a failed test gets their stderr attached.
   */
  startRmqtt: (options?: Pick<RmqttOptions, 'mqttPort' | 'apiToken'>) => Promise<Rmqtt>;
  /** `connectDevice` whose connections are closed after the test. */
  connectDevice: (port: number, login: DeviceLogin) => Promise<Device>;
};

export const test = base.extend<RmqttFixtures>({
  rmqttApiPort: async ({}, use) => {
    await use(await freePort());
  },

  startRmqtt: async ({ keygate, rmqttApiPort }, use, testInfo) => {
    const started: Rmqtt[] = [];
    await use(async (options = {}) => {
      const broker = await spawnRmqtt({
        keygate: keygate.url,
        name: rmqttTargetName(rmqttApiPort),
        apiPort: rmqttApiPort,
        ...options,
      });
      started.push(broker);
      return broker;
    });
    await Promise.all(started.map((broker) => broker.stop()));
    if (started.length > 0 && testInfo.status !== testInfo.expectedStatus) {
      const logs = started.map((broker, i) => `--- rmqtt-test-broker #${i + 1}\n${broker.stderr()}`).join('\n');
      await testInfo.attach('rmqtt-test-broker.log', { body: logs, contentType: 'text/plain' });
    }
  },

  connectDevice: async ({}, use) => {
    const devices: Device[] = [];
    await use(async (port, login) => {
      const device = await connectDevice(port, login);
      devices.push(device);
      return device;
    });
    await Promise.all(devices.map((device) => device.disconnect()));
  },
});
