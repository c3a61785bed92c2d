"""Traffic captured from live Redis between Node socket.io 4.8 servers (@socket.io/redis-adapter 8.3.0), the
redis emitter 5.1.0 and the streams adapter 0.3.1: shared/CLUSTER-NOTES.md §8, transcribed verbatim.

Hex strings are the exact payloads (``bytes.fromhex``); JSON strings are the exact bytes as text.
"""

# fmt: off
# §8.1 classic broadcasts, then §8.4 the emitter's: (channel, hex).
CLASSIC_BROADCASTS = [
    (
        "socket.io#/#",
        "93 a6 4b 45 61 61 47 5a 83 a4 74 79 70 65 02 a4 64 61 74 61 94 a9 62 63 61 73 74 2d 61 6c 6c a5 "
        "68 65 6c 6c 6f 01 83 a1 61 cb 3f f8 00 00 00 00 00 00 a1 62 c0 a1 63 c3 a3 6e 73 70 a1 2f 83 a5 "
        "72 6f 6f 6d 73 90 a6 65 78 63 65 70 74 90 a5 66 6c 61 67 73 80",
    ),
    (
        "socket.io#/#room1#",
        "93 a6 4b 45 61 61 47 5a 83 a4 74 79 70 65 02 a4 64 61 74 61 92 aa 62 63 61 73 74 2d 72 6f 6f 6d "
        "a1 78 a3 6e 73 70 a1 2f 83 a5 72 6f 6f 6d 73 91 a5 72 6f 6f 6d 31 a6 65 78 63 65 70 74 90 a5 66 "
        "6c 61 67 73 80",
    ),
    (
        "socket.io#/#",
        "93 a6 4b 45 61 61 47 5a 83 a4 74 79 70 65 02 a4 64 61 74 61 92 ab 62 63 61 73 74 2d 6d 75 6c 74 "
        "69 a1 79 a3 6e 73 70 a1 2f 83 a5 72 6f 6f 6d 73 92 a5 72 6f 6f 6d 31 a5 72 6f 6f 6d 32 a6 65 78 "
        "63 65 70 74 91 a5 72 6f 6f 6d 33 a5 66 6c 61 67 73 80",
    ),
    (
        "socket.io#/#",
        "93 a6 4b 45 61 61 47 5a 83 a4 74 79 70 65 02 a4 64 61 74 61 92 ab 62 63 61 73 74 2d 66 6c 61 67 "
        "73 a1 7a a3 6e 73 70 a1 2f 83 a5 72 6f 6f 6d 73 90 a6 65 78 63 65 70 74 90 a5 66 6c 61 67 73 82 "
        "a8 76 6f 6c 61 74 69 6c 65 c3 a8 63 6f 6d 70 72 65 73 73 c2",
    ),
    (
        "socket.io#/#",
        "93 a6 4b 45 61 61 47 5a 83 a4 74 79 70 65 02 a4 64 61 74 61 93 a9 62 63 61 73 74 2d 62 69 6e c4 "
        "03 01 02 03 81 a6 6e 65 73 74 65 64 c4 02 04 05 a3 6e 73 70 a1 2f 83 a5 72 6f 6f 6d 73 90 a6 65 "
        "78 63 65 70 74 90 a5 66 6c 61 67 73 80",
    ),
    (
        "socket.io#/chat#",
        "93 a6 68 61 61 6d 54 67 83 a4 74 79 70 65 02 a4 64 61 74 61 92 a8 63 68 61 74 2d 6d 73 67 a1 63 "
        "a3 6e 73 70 a5 2f 63 68 61 74 83 a5 72 6f 6f 6d 73 90 a6 65 78 63 65 70 74 90 a5 66 6c 61 67 73 "
        "80",
    ),
    (
        "socket.io#/#",
        "93 a6 4b 45 61 61 47 5a 83 a4 74 79 70 65 02 a4 64 61 74 61 92 ab 66 72 6f 6d 2d 73 6f 63 6b 65 "
        "74 a1 62 a3 6e 73 70 a1 2f 83 a5 72 6f 6f 6d 73 90 a6 65 78 63 65 70 74 91 b4 68 61 36 52 70 78 "
        "49 64 32 61 36 4c 73 46 48 76 41 41 41 41 a5 66 6c 61 67 73 80",
    ),
    (
        "socket.io#/#irYitCqNBGaF3VYQAAAC#",
        "93 a6 4b 45 61 61 47 5a 83 a4 74 79 70 65 02 a4 64 61 74 61 92 a7 70 72 69 76 61 74 65 a1 70 a3 "
        "6e 73 70 a1 2f 83 a5 72 6f 6f 6d 73 91 b4 69 72 59 69 74 43 71 4e 42 47 61 46 33 56 59 51 41 41 "
        "41 43 a6 65 78 63 65 70 74 90 a5 66 6c 61 67 73 80",
    ),
]
EMITTER_BROADCASTS = [
    (
        "socket.io#/#",
        "93 a7 65 6d 69 74 74 65 72 83 a4 74 79 70 65 02 a4 64 61 74 61 94 ac 66 72 6f 6d 2d 65 6d 69 74 "
        "74 65 72 a2 68 69 2a 81 a1 6b 92 01 02 a3 6e 73 70 a1 2f 83 a5 72 6f 6f 6d 73 90 a5 66 6c 61 67 "
        "73 80 a6 65 78 63 65 70 74 90",
    ),
    (
        "socket.io#/#room1#",
        "93 a7 65 6d 69 74 74 65 72 83 a4 74 79 70 65 02 a4 64 61 74 61 92 b1 66 72 6f 6d 2d 65 6d 69 74 "
        "74 65 72 2d 72 6f 6f 6d a1 72 a3 6e 73 70 a1 2f 83 a5 72 6f 6f 6d 73 91 a5 72 6f 6f 6d 31 a5 66 "
        "6c 61 67 73 80 a6 65 78 63 65 70 74 90",
    ),
    (
        "socket.io#/#",
        "93 a7 65 6d 69 74 74 65 72 83 a4 74 79 70 65 02 a4 64 61 74 61 92 a5 6d 75 6c 74 69 01 a3 6e 73 "
        "70 a1 2f 83 a5 72 6f 6f 6d 73 92 a5 72 6f 6f 6d 31 a5 72 6f 6f 6d 32 a5 66 6c 61 67 73 82 a8 76 "
        "6f 6c 61 74 69 6c 65 c3 a8 63 6f 6d 70 72 65 73 73 c2 a6 65 78 63 65 70 74 91 a5 72 6f 6f 6d 33",
    ),
    (
        "socket.io#/chat#",
        "93 a7 65 6d 69 74 74 65 72 83 a4 74 79 70 65 02 a4 64 61 74 61 92 a3 62 69 6e c4 02 de ad a3 6e "
        "73 70 a5 2f 63 68 61 74 83 a5 72 6f 6f 6d 73 90 a5 66 6c 61 67 73 80 a6 65 78 63 65 70 74 90",
    ),
]
BROADCAST_WITH_ACK_REQUEST = (
    "85 a3 75 69 64 a6 4b 45 61 61 47 5a a9 72 65 71 75 65 73 74 49 64 a6 41 46 69 31 78 50 a4 74 79 "
    "70 65 07 a6 70 61 63 6b 65 74 83 a4 74 79 70 65 02 a4 64 61 74 61 92 a9 62 63 61 73 74 2d 61 63 "
    "6b a4 64 61 74 61 a3 6e 73 70 a1 2f a4 6f 70 74 73 83 a5 72 6f 6f 6d 73 90 a6 65 78 63 65 70 74 "
    "90 a5 66 6c 61 67 73 81 a7 74 69 6d 65 6f 75 74 cd 07 d0"
)
BROADCAST_ACK_RESPONSE = (
    "83 a4 74 79 70 65 09 a9 72 65 71 75 65 73 74 49 64 a6 41 46 69 31 78 50 a6 70 61 63 6b 65 74 b2 "
    "61 63 6b 2d 66 72 6f 6d 2d 63 6c 69 65 6e 74 40 53 32"
)
SHARDED_BINARY_BROADCAST = (
    "84 a4 74 79 70 65 03 a4 64 61 74 61 82 a6 70 61 63 6b 65 74 82 a4 74 79 70 65 02 a4 64 61 74 61 "
    "93 a9 62 63 61 73 74 2d 62 69 6e c4 03 01 02 03 81 a6 6e 65 73 74 65 64 c4 02 04 05 a4 6f 70 74 "
    "73 83 a5 72 6f 6f 6d 73 90 a6 65 78 63 65 70 74 90 a5 66 6c 61 67 73 80 a3 75 69 64 b0 66 64 37 "
    "61 32 36 35 65 37 34 38 66 66 64 31 66 a3 6e 73 70 a1 2f"
)
STREAMS_MSGPACK = [
    (
        'socket.io#/#',
        "84 a4 74 79 70 65 07 a4 64 61 74 61 82 a4 6f 70 74 73 83 a5 72 6f 6f 6d 73 90 a6 65 78 63 65 70 "
        "74 90 a5 66 6c 61 67 73 80 a9 72 65 71 75 65 73 74 49 64 b0 66 62 37 30 63 39 64 61 66 30 39 38 "
        "36 35 37 66 a3 75 69 64 b0 31 32 38 38 66 35 35 33 34 66 37 39 62 37 62 34 a3 6e 73 70 a1 2f",
    ),
    (
        'socket.io#/#',
        "84 a4 74 79 70 65 07 a4 64 61 74 61 82 a4 6f 70 74 73 83 a5 72 6f 6f 6d 73 91 a5 72 6f 6f 6d 31 "
        "a6 65 78 63 65 70 74 90 a5 66 6c 61 67 73 80 a9 72 65 71 75 65 73 74 49 64 b0 34 34 33 30 63 38 "
        "33 30 39 66 65 65 38 35 61 66 a3 75 69 64 b0 31 32 38 38 66 35 35 33 34 66 37 39 62 37 62 34 a3 "
        "6e 73 70 a1 2f",
    ),
    (
        'socket.io#/#1288f5534f79b7b4#',
        "84 a4 74 79 70 65 08 a4 64 61 74 61 82 a9 72 65 71 75 65 73 74 49 64 b0 34 34 33 30 63 38 33 30 "
        "39 66 65 65 38 35 61 66 a7 73 6f 63 6b 65 74 73 91 84 a2 69 64 b4 76 64 67 54 5a 41 73 39 55 6f "
        "50 63 43 77 6a 38 41 41 41 42 a9 68 61 6e 64 73 68 61 6b 65 89 a7 68 65 61 64 65 72 73 86 b5 73 "
        "65 63 2d 77 65 62 73 6f 63 6b 65 74 2d 76 65 72 73 69 6f 6e a2 31 33 b1 73 65 63 2d 77 65 62 73 "
        "6f 63 6b 65 74 2d 6b 65 79 b8 79 34 6f 34 54 31 62 7a 75 47 36 72 43 79 47 4a 67 76 39 55 64 41 "
        "3d 3d aa 63 6f 6e 6e 65 63 74 69 6f 6e a7 55 70 67 72 61 64 65 a7 75 70 67 72 61 64 65 a9 77 65 "
        "62 73 6f 63 6b 65 74 b8 73 65 63 2d 77 65 62 73 6f 63 6b 65 74 2d 65 78 74 65 6e 73 69 6f 6e 73 "
        "d9 2a 70 65 72 6d 65 73 73 61 67 65 2d 64 65 66 6c 61 74 65 3b 20 63 6c 69 65 6e 74 5f 6d 61 78 "
        "5f 77 69 6e 64 6f 77 5f 62 69 74 73 a4 68 6f 73 74 af 31 32 37 2e 30 2e 30 2e 31 3a 34 33 33 33 "
        "33 a4 74 69 6d 65 d9 3e 57 65 64 20 4e 6f 76 20 32 35 20 32 30 32 36 20 32 30 3a 31 38 3a 31 33 "
        "20 47 4d 54 2b 30 30 30 30 20 28 43 6f 6f 72 64 69 6e 61 74 65 64 20 55 6e 69 76 65 72 73 61 6c "
        "20 54 69 6d 65 29 a7 61 64 64 72 65 73 73 a9 31 32 37 2e 30 2e 30 2e 31 a7 78 64 6f 6d 61 69 6e "
        "c2 a6 73 65 63 75 72 65 c2 a6 69 73 73 75 65 64 cf 00 00 01 a2 14 5b d8 7f a3 75 72 6c d9 30 2f "
        "73 6f 63 6b 65 74 2e 69 6f 2f 3f 72 6f 6f 6d 3d 72 6f 6f 6d 31 26 45 49 4f 3d 34 26 74 72 61 6e "
        "73 70 6f 72 74 3d 77 65 62 73 6f 63 6b 65 74 a5 71 75 65 72 79 83 a4 72 6f 6f 6d a5 72 6f 6f 6d "
        "31 a3 45 49 4f a1 34 a9 74 72 61 6e 73 70 6f 72 74 a9 77 65 62 73 6f 63 6b 65 74 a4 61 75 74 68 "
        "80 a5 72 6f 6f 6d 73 92 b4 76 64 67 54 5a 41 73 39 55 6f 50 63 43 77 6a 38 41 41 41 42 a5 72 6f "
        "6f 6d 31 a4 64 61 74 61 81 a4 75 73 65 72 81 a4 6e 61 6d 65 a6 75 2d 76 64 67 54 a3 75 69 64 b0 "
        "38 37 36 62 66 35 33 65 64 37 38 63 33 35 35 32 a3 6e 73 70 a1 2f",
    ),
    (
        'socket.io#/#',
        "84 a4 74 79 70 65 09 a4 64 61 74 61 81 a6 70 61 63 6b 65 74 94 a6 73 73 65 6d 69 74 a1 61 02 81 "
        "a1 6f 01 a3 75 69 64 b0 31 32 38 38 66 35 35 33 34 66 37 39 62 37 62 34 a3 6e 73 70 a1 2f",
    ),
    (
        'socket.io#/#',
        "84 a4 74 79 70 65 09 a4 64 61 74 61 82 a9 72 65 71 75 65 73 74 49 64 b0 65 66 65 65 35 62 66 37 "
        "61 61 61 37 61 65 39 39 a6 70 61 63 6b 65 74 92 aa 73 73 65 6d 69 74 2d 61 63 6b a1 71 a3 75 69 "
        "64 b0 31 32 38 38 66 35 35 33 34 66 37 39 62 37 62 34 a3 6e 73 70 a1 2f",
    ),
    (
        'socket.io#/#1288f5534f79b7b4#',
        "84 a4 74 79 70 65 0a a4 64 61 74 61 82 a9 72 65 71 75 65 73 74 49 64 b0 65 66 65 65 35 62 66 37 "
        "61 61 61 37 61 65 39 39 a6 70 61 63 6b 65 74 ac 70 6f 6e 67 2d 66 72 6f 6d 2d 53 32 a3 75 69 64 "
        "b0 38 37 36 62 66 35 33 65 64 37 38 63 33 35 35 32 a3 6e 73 70 a1 2f",
    ),
    (
        'socket.io#/#',
        "84 a4 74 79 70 65 03 a4 64 61 74 61 83 a6 70 61 63 6b 65 74 82 a4 74 79 70 65 02 a4 64 61 74 61 "
        "92 a9 62 63 61 73 74 2d 61 63 6b a4 64 61 74 61 a9 72 65 71 75 65 73 74 49 64 b0 31 31 61 32 65 "
        "31 30 66 33 36 65 64 65 38 39 35 a4 6f 70 74 73 83 a5 72 6f 6f 6d 73 90 a6 65 78 63 65 70 74 90 "
        "a5 66 6c 61 67 73 81 a7 74 69 6d 65 6f 75 74 cd 07 d0 a3 75 69 64 b0 31 32 38 38 66 35 35 33 34 "
        "66 37 39 62 37 62 34 a3 6e 73 70 a1 2f",
    ),
    (
        'socket.io#/#1288f5534f79b7b4#',
        "84 a4 74 79 70 65 0b a4 64 61 74 61 82 a9 72 65 71 75 65 73 74 49 64 b0 31 31 61 32 65 31 30 66 "
        "33 36 65 64 65 38 39 35 ab 63 6c 69 65 6e 74 43 6f 75 6e 74 02 a3 75 69 64 b0 38 37 36 62 66 35 "
        "33 65 64 37 38 63 33 35 35 32 a3 6e 73 70 a1 2f",
    ),
    (
        'socket.io#/#1288f5534f79b7b4#',
        "84 a4 74 79 70 65 0c a4 64 61 74 61 82 a9 72 65 71 75 65 73 74 49 64 b0 31 31 61 32 65 31 30 66 "
        "33 36 65 64 65 38 39 35 a6 70 61 63 6b 65 74 b2 61 63 6b 2d 66 72 6f 6d 2d 63 6c 69 65 6e 74 40 "
        "53 32 a3 75 69 64 b0 38 37 36 62 66 35 33 65 64 37 38 63 33 35 35 32 a3 6e 73 70 a1 2f",
    ),
    (
        'socket.io#/#1288f5534f79b7b4#',
        "84 a4 74 79 70 65 0c a4 64 61 74 61 82 a9 72 65 71 75 65 73 74 49 64 b0 31 31 61 32 65 31 30 66 "
        "33 36 65 64 65 38 39 35 a6 70 61 63 6b 65 74 b2 61 63 6b 2d 66 72 6f 6d 2d 63 6c 69 65 6e 74 40 "
        "53 32 a3 75 69 64 b0 38 37 36 62 66 35 33 65 64 37 38 63 33 35 35 32 a3 6e 73 70 a1 2f",
    ),
]
CLASSIC_JSON_REQUESTS = [
    (
        'socket.io-request#/#',
        '{"uid":"KEaaGZ","requestId":"YZ906u","type":5,"opts":{"rooms":[],"except":[]}}',
    ),
    (
        'socket.io-request#/#',
        '{"uid":"KEaaGZ","requestId":"b_35S8","type":5,"opts":{"rooms":["room1"],"except":[]}}',
    ),
    (
        'socket.io-request#/#',
        '{"uid":"KEaaGZ","requestId":"c0Qf3z","type":1}',
    ),
    (
        'socket.io-request#/#',
        '{"uid":"KEaaGZ","type":6,"data":["ssemit","a",2,{"o":1}]}',
    ),
    (
        'socket.io-request#/#',
        '{"uid":"KEaaGZ","requestId":"xKfiFm","type":6,"data":["ssemit-ack","q"]}',
    ),
    (
        'socket.io-request#/#',
        '{"uid":"KEaaGZ","type":2,"opts":{"rooms":[],"except":[]},"rooms":["room2"]}',
    ),
    (
        'socket.io-request#/#',
        '{"uid":"KEaaGZ","type":3,"opts":{"rooms":["room2"],"except":[]},"rooms":["room2"]}',
    ),
    (
        'socket.io-request#/#',
        '{"uid":"KEaaGZ","type":4,"opts":{"rooms":["irYitCqNBGaF3VYQAAAC"],"except":[]},"close":false}',
    ),
]
CLASSIC_JSON_RESPONSES = [
    (
        'socket.io-response#/#',
        '{"requestId":"c0Qf3z","rooms":["rVfNz3QXuJvNmUIEAAAB","room1","irYitCqNBGaF3VYQAAAC"]}',
    ),
    (
        'socket.io-response#/#',
        '{"type":6,"requestId":"xKfiFm","data":"pong-from-S2"}',
    ),
    (
        'socket.io-response#/#',
        '{"type":8,"requestId":"AFi1xP","clientCount":2}',
    ),
]
EMITTER_JSON_REQUESTS = [
    (
        'socket.io-request#/#',
        '{"uid":"emitter","type":6,"data":["ssemit","from-emitter"]}',
    ),
    (
        'socket.io-request#/#',
        '{"type":2,"opts":{"rooms":["room1"],"except":[]},"rooms":["room9"]}',
    ),
    (
        'socket.io-request#/#',
        '{"type":3,"opts":{"rooms":[],"except":[]},"rooms":["room9"]}',
    ),
    (
        'socket.io-request#/#',
        '{"type":4,"opts":{"rooms":["ZWPnQ3pFqGfy4f24AAAC"],"except":[]},"close":true}',
    ),
]
SHARDED_JSON = [
    (
        'socket.io#/#',
        '{"type":3,"data":{"packet":{"type":2,"data":["bcast-all","hello",1,{"a":1.5,"b":null,"c":t'
        'rue}]},"opts":{"rooms":[],"except":[],"flags":{}}},"uid":"fd7a265e748ffd1f","nsp":"/"}',
    ),
    (
        'socket.io#/#room1#',
        '{"type":3,"data":{"packet":{"type":2,"data":["bcast-room","x"]},"opts":{"rooms":["room1"],'
        '"except":[],"flags":{}}},"uid":"fd7a265e748ffd1f","nsp":"/"}',
    ),
    (
        'socket.io#/#',
        '{"type":3,"data":{"packet":{"type":2,"data":["bcast-multi","y"]},"opts":{"rooms":["room1",'
        '"room2"],"except":["room3"],"flags":{}}},"uid":"fd7a265e748ffd1f","nsp":"/"}',
    ),
    (
        'socket.io#/#',
        '{"type":3,"data":{"packet":{"type":2,"data":["bcast-flags","z"]},"opts":{"rooms":[],"excep'
        't":[],"flags":{"volatile":true,"compress":false}}},"uid":"fd7a265e748ffd1f","nsp":"/"}',
    ),
    (
        'socket.io#/chat#',
        '{"type":3,"data":{"packet":{"type":2,"data":["chat-msg","c"]},"opts":{"rooms":[],"except":'
        '[],"flags":{}}},"uid":"af01535738800a7c","nsp":"/chat"}',
    ),
    (
        'socket.io#/#',
        '{"type":3,"data":{"packet":{"type":2,"data":["from-socket","b"]},"opts":{"rooms":[],"excep'
        't":["xPOwIk_1ywJCk9SXAAAA"],"flags":{}}},"uid":"fd7a265e748ffd1f","nsp":"/"}',
    ),
    (
        'socket.io#/#',
        '{"type":3,"data":{"packet":{"type":2,"data":["private","p"]},"opts":{"rooms":["f7hobyzq2wd'
        'm2Vw0AAAC"],"except":[],"flags":{}}},"uid":"fd7a265e748ffd1f","nsp":"/"}',
    ),
    (
        'socket.io#/#',
        '{"type":7,"data":{"opts":{"rooms":[],"except":[],"flags":{}},"requestId":"221e2c6bbd7d1837'
        '"},"uid":"fd7a265e748ffd1f","nsp":"/"}',
    ),
    (
        'socket.io#/#',
        '{"type":7,"data":{"opts":{"rooms":["room1"],"except":[],"flags":{}},"requestId":"fb4d1ade7'
        '67134f2"},"uid":"fd7a265e748ffd1f","nsp":"/"}',
    ),
    (
        'socket.io#/#',
        '{"type":9,"data":{"packet":["ssemit","a",2,{"o":1}]},"uid":"fd7a265e748ffd1f","nsp":"/"}',
    ),
    (
        'socket.io#/#',
        '{"type":9,"data":{"requestId":"1f78b36a1db7ad86","packet":["ssemit-ack","q"]},"uid":"fd7a2'
        '65e748ffd1f","nsp":"/"}',
    ),
    (
        'socket.io#/#fd7a265e748ffd1f#',
        '{"type":10,"data":{"requestId":"1f78b36a1db7ad86","packet":"pong-from-S2"},"uid":"09263943'
        '2d9ab200","nsp":"/"}',
    ),
    (
        'socket.io#/#',
        '{"type":3,"data":{"packet":{"type":2,"data":["bcast-ack","data"]},"requestId":"f089f05ca85'
        '69372","opts":{"rooms":[],"except":[],"flags":{"timeout":2000}}},"uid":"fd7a265e748ffd1f",'
        '"nsp":"/"}',
    ),
    (
        'socket.io#/#fd7a265e748ffd1f#',
        '{"type":11,"data":{"requestId":"f089f05ca8569372","clientCount":2},"uid":"092639432d9ab200'
        '","nsp":"/"}',
    ),
    (
        'socket.io#/#fd7a265e748ffd1f#',
        '{"type":12,"data":{"requestId":"f089f05ca8569372","packet":"ack-from-client@S2"},"uid":"09'
        '2639432d9ab200","nsp":"/"}',
    ),
    (
        'socket.io#/#fd7a265e748ffd1f#',
        '{"type":12,"data":{"requestId":"f089f05ca8569372","packet":"ack-from-client@S2"},"uid":"09'
        '2639432d9ab200","nsp":"/"}',
    ),
    (
        'socket.io#/#',
        '{"type":4,"data":{"opts":{"rooms":[],"except":[],"flags":{}},"rooms":["room2"]},"uid":"fd7'
        'a265e748ffd1f","nsp":"/"}',
    ),
    (
        'socket.io#/#',
        '{"type":5,"data":{"opts":{"rooms":["room2"],"except":[],"flags":{}},"rooms":["room2"]},"ui'
        'd":"fd7a265e748ffd1f","nsp":"/"}',
    ),
    (
        'socket.io#/#',
        '{"type":6,"data":{"opts":{"rooms":["f7hobyzq2wdm2Vw0AAAC"],"except":[],"flags":{}},"close"'
        ':false},"uid":"fd7a265e748ffd1f","nsp":"/"}',
    ),
]
CLASSIC_FETCH_RESPONSE = (
    '{"requestId":"b_35S8","sockets":[{"id":"rVfNz3QXuJvNmUIEAAAB","handshake":{"headers":{"sec'
    '-websocket-version":"13","sec-websocket-key":"iwlHSrIeZqCZL6QcsTX9pQ==","connection":"Upgr'
    'ade","upgrade":"websocket","sec-websocket-extensions":"permessage-deflate; client_max_wind'
    'ow_bits","host":"127.0.0.1:44291"},"time":"Wed Nov 25 2026 20:17:20 GMT+0000 (Coordinated '
    'Universal Time)","address":"127.0.0.1","xdomain":false,"secure":false,"issued":17956378401'
    '65,"url":"/socket.io/?room=room1&EIO=4&transport=websocket","query":{"room":"room1","EIO":'
    '"4","transport":"websocket"},"auth":{}},"rooms":["rVfNz3QXuJvNmUIEAAAB","room1"],"data":{"'
    'user":{"name":"u-rVfN"}}}]}'
)

# §8.7: an Admin UI "room_joined" broadcast on socket.io#/admin#, its Date as msgpack timestamp ext -1.
ADMIN_ROOM_JOINED = (
    "93 a6 30 50 77 59 37 73 83 a4 74 79 70 65 02 a4 64 61 74 61 95 ab 72 6f 6f 6d 5f 6a 6f 69 6e 65 "
    "64 a1 2f a5 6c 6f 62 62 79 b4 52 78 74 36 52 4f 76 6f 7a 6f 33 54 51 36 4d 69 41 41 41 42 d7 ff "
    "5b 8d 80 00 6b 07 43 63 a3 6e 73 70 a6 2f 61 64 6d 69 6e 83 a5 72 6f 6f 6d 73 90 a6 65 78 63 65 "
    "70 74 90 a5 66 6c 61 67 73 80"
)

# §8.6: a broadcast published by a Python peer, which Node accepted and delivered ("fEcOhZ" is its uid).
PYTHON_BROADCAST = (
    "93 a6 66 45 63 4f 68 5a 83 a4 74 79 70 65 02 a4 64 61 74 61 94 ab 66 72 6f 6d 2d 70 79 74 68 6f "
    "6e a2 68 69 c4 03 01 02 ff 81 a1 6e cb 3f f8 00 00 00 00 00 00 a3 6e 73 70 a1 2f 83 a5 72 6f 6f "
    "6d 73 90 a6 65 78 63 65 70 74 90 a5 66 6c 61 67 73 80"
)
# fmt: on
