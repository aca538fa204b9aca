#!/usr/bin/python3
"""A stand-in for systemd's private D-Bus socket (/run/systemd/private) for the tests: no systemd
runs on the test machines. It serves org.freedesktop.DBus.Properties.GetAll on
/org/freedesktop/systemd1/unit/<escaped unit> peer-to-peer (libdbus through dbus-python, so the
wire bytes come from the reference implementation), with property names and signatures as
systemd documents them (org.freedesktop.systemd1(5)).

usage: systemd_private_peer.py <socket path> <unit>=<Type>,<TriggeredBy or ''> ...
"""
import os
import sys

import dbus
import dbus.mainloop.glib
import dbus.server
import dbus.service
from gi.repository import GLib


def escape(unit):
    out = ''.join(c if c.isascii() and c.isalnum() else '_%02x' % ord(c) for c in unit)
    return out or '_'


def properties(unit, type_, triggered_by):
    # A realistic mix of types, so the client must skip what it does not read.
    exec_start = dbus.Array([dbus.Struct(('/usr/bin/app', dbus.Array(['/usr/bin/app', '--serve'], signature='s'),
                                          False, dbus.UInt64(1), dbus.UInt64(2), dbus.UInt64(3), dbus.UInt64(4),
                                          dbus.UInt32(1234), dbus.Int32(0), dbus.Int32(0)),
                                         signature='sasbttttuii')], signature='(sasbttttuii)')
    return dbus.Dictionary({
        'Id': unit,
        'Names': dbus.Array([unit], signature='s'),
        'Description': 'test unit ' + unit,
        'LoadState': 'loaded',
        'ActiveState': 'active',
        'ExecStart': exec_start,
        'MemoryCurrent': dbus.UInt64(123456789),
        'CPUUsageNSec': dbus.UInt64(987654321),
        'Restart': 'on-failure',
        'NRestarts': dbus.UInt32(2),
        'Environment': dbus.Array(['A=1', 'B=2'], signature='s'),
        'Conditions': dbus.Array([dbus.Struct(('ConditionPathExists', False, False, '/etc/x', dbus.Int32(0)),
                                              signature='sbbsi')], signature='(sbbsi)'),
        'IOReadBytes': dbus.UInt64(2**64 - 1),
        'Nested': dbus.Struct((dbus.Byte(7), dbus.Dictionary({'k': dbus.Int16(-3)}, signature='sn')),
                              signature='ya{sn}', variant_level=1),
        'Type': type_,
        'TriggeredBy': dbus.Array([triggered_by] if triggered_by else [], signature='s'),
        'MainPID': dbus.UInt32(4242),
        'CanStart': True,
    }, signature='sv')


class Unit(dbus.service.Object):
    def __init__(self, conn, unit, props):
        super().__init__(conn, '/org/freedesktop/systemd1/unit/' + escape(unit))
        self.props = props

    @dbus.service.method('org.freedesktop.DBus.Properties', in_signature='s', out_signature='a{sv}')
    def GetAll(self, interface):
        return self.props


def main():
    path = sys.argv[1]
    units = {}
    for arg in sys.argv[2:]:
        name, spec = arg.split('=', 1)
        type_, triggered_by = spec.split(',', 1)
        units[name] = properties(name, type_, triggered_by)
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    keep = []

    class Server(dbus.server.Server):
        def connection_added(self, conn):
            for name, props in units.items():
                keep.append(Unit(conn, name, props))

    if os.path.exists(path):
        os.unlink(path)
    server = Server('unix:path=' + path)
    print('ready', flush=True)
    GLib.MainLoop().run()


if __name__ == '__main__':
    main()
