#!/usr/bin/env python3
"""Reads a pcap (Ethernet, IPv4/TCP), keeps the TCP payload sent by one address, cuts it into BGP messages
and prints each OPEN, UPDATE, NOTIFICATION and ROUTE-REFRESH as a hex line (KEEPALIVEs are left out)."""
import struct, sys

path, source, label = sys.argv[1], sys.argv[2], sys.argv[3]
src = bytes(int(x) for x in source.split('.'))
data = open(path, 'rb').read()
magic = struct.unpack('<I', data[:4])[0]
endian = '<' if magic in (0xa1b2c3d4, 0xa1b23c4d) else '>'
offset, stream, seen = 24, b'', set()
while offset + 16 <= len(data):
    _, _, caplen, _ = struct.unpack(endian + 'IIII', data[offset:offset + 16])
    frame = data[offset + 16:offset + 16 + caplen]
    offset += 16 + caplen
    if len(frame) < 34 or frame[12:14] != b'\x08\x00':
        continue
    ip = frame[14:]
    ihl = (ip[0] & 15) * 4
    if ip[9] != 6 or ip[12:16] != src:
        continue
    total = struct.unpack('>H', ip[2:4])[0]
    tcp = ip[ihl:total]
    seq = struct.unpack('>I', tcp[4:8])[0]
    payload = tcp[(tcp[12] >> 4) * 4:]
    if payload and seq not in seen:
        seen.add(seq)
        stream += payload
print(f'# BGP messages sent by {label} to our speaker, captured with tcpdump; one message per line, header included')
names = {1: 'OPEN', 2: 'UPDATE', 3: 'NOTIFICATION', 5: 'ROUTE-REFRESH'}
while len(stream) >= 19:
    length = struct.unpack('>H', stream[16:18])[0]
    message, stream = stream[:length], stream[length:]
    if message[18] in names:
        print(f'{names[message[18]]} {message.hex()}')
