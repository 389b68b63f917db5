"""A Tornado JSON health endpoint (the seed's framework), as an RPC-speed anchor.

    tornado_health_server.py --port PORT

GET /health answers {"status": "SERVING"} with Content-Type application/json,
on one Tornado process (its default shape). Prints "ready"; stops on SIGTERM.
"""
import argparse
import asyncio
import signal

import tornado.web


class HealthHandler(tornado.web.RequestHandler):
    def get(self):
        self.write({"status": "SERVING"})


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = tornado.web.Application([(r"/health", HealthHandler)], log_function=lambda handler: None)
    app.listen(args.port, address="127.0.0.1")
    print("ready", flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
