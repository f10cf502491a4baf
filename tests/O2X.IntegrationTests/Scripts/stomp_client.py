"""An independent STOMP client (stomp.py, Debian python3-stomp) standing in for the seed's systems on ActiveMQ.

usage: stomp_client.py PORT SEND_QUEUE MESSAGE_ID BODY_FILE COPIES READ_QUEUE EXPECT TIMEOUT_S
Credentials from O2X_TEST_ACTIVEMQ_USER / O2X_TEST_ACTIVEMQ_PASSWORD. Sends BODY_FILE to SEND_QUEUE COPIES times with the
message_id header (a producer redelivering), then reads READ_QUEUE until EXPECT messages arrived or TIMEOUT_S passed, printing
one JSON line per message: {"message_id", "correlation_id", "body"}. Exit code 0 when EXPECT arrived, 3 on timeout.
"""
import json, os, sys, threading
import stomp

port, send_queue, message_id, body_file, copies, read_queue, expect, timeout = sys.argv[1:9]
received, done = [], threading.Event()

class Listener(stomp.ConnectionListener):
    def on_message(self, frame):
        received.append({"message_id": frame.headers.get("message_id"), "correlation_id": frame.headers.get("correlation-id"),
                         "body": frame.body})
        connection.ack(frame.headers["ack"])
        if len(received) >= int(expect): done.set()

connection = stomp.Connection12([("127.0.0.1", int(port))])
connection.set_listener("", Listener())
connection.connect(os.environ["O2X_TEST_ACTIVEMQ_USER"], os.environ["O2X_TEST_ACTIVEMQ_PASSWORD"], wait=True)
body = open(body_file, encoding="utf-8").read()
for _ in range(int(copies)):
    connection.send("/queue/" + send_queue, body, content_type="application/json",
                    headers={"message_id": message_id, "correlation-id": "py-corr-" + message_id, "persistent": "true"})
connection.subscribe("/queue/" + read_queue, id="1", ack="client-individual")
arrived = done.wait(float(timeout))
for message in received: print(json.dumps(message))
connection.disconnect()
sys.exit(0 if arrived else 3)
