// Devices for the browser tests: real MQTT connections made with mqtt.js, as a device would.
import { connect, type IClientOptions, type MqttClient } from 'mqtt';

export interface DeviceLogin {
  /** The MQTT client identifier the device chooses. */
  identifier: string;
  username: string;
  /** The client's key. */
  password: string;
  /** 4: MQTT 3.1.1, 5: MQTT 5 (default). */
  protocolVersion?: 4 | 5;
}

/** A device holding an MQTT connection open. */
export interface Device {
  identifier: string;
  client: MqttClient;
  /** Whether its connection is open. */
  connected(): boolean;
  /** Sends DISCONNECT and closes the connection (at once if it is closed already). */
  disconnect(): Promise<void>;
}

/**
 * Connects to the broker on 127.0.0.1:`port` and resolves once it accepted (CONNACK 0); rejects
 * with the broker's refusal, or if the connection closes first. The device never reconnects by
 * itself: a test says when it comes back.
 */
export function connectDevice(port: number, login: DeviceLogin): Promise<Device> {
  const options: IClientOptions = {
    host: '127.0.0.1',
    port,
    protocol: 'mqtt',
    protocolVersion: login.protocolVersion ?? 5,
    clientId: login.identifier,
    username: login.username,
    password: login.password,
    clean: true,
    keepalive: 30,
    reconnectPeriod: 0,
    connectTimeout: 15_000,
  };
  const client = connect(options);
  const device: Device = {
    identifier: login.identifier,
    client,
    connected: () => client.connected,
    // A closed connection has no DISCONNECT to send: it is only torn down.
    disconnect: () => new Promise<void>((resolve) => client.end(!client.connected, {}, () => resolve())),
  };
  return new Promise<Device>((resolve, reject) => {
    // Named listeners: mqtt.js has listeners of its own on these events, which must stay.
    const onError = (error: Error) => settle(`refused: ${error.message}`);
    const onClose = () => settle('the connection closed before a CONNACK');
    const onConnect = () => settle();
    const settle = (refusal?: string) => {
      client.removeListener('connect', onConnect);
      client.removeListener('error', onError);
      client.removeListener('close', onClose);
      if (refusal === undefined) {
        // Errors after the CONNACK (the broker closing the connection) are the test's to notice.
        client.on('error', () => undefined);
        resolve(device);
      } else {
        client.end(true);
        reject(new Error(`${login.identifier} (username ${login.username}) was not let in: ${refusal}`));
      }
    };
    client.on('connect', onConnect);
    client.on('error', onError);
    client.on('close', onClose);
  });
}
