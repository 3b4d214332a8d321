#!/usr/bin/perl
# make-test-mmdb.pl OUT - writes a small MaxMind DB in the GeoLite2-Country
# layout ({"country":{"iso_code":...}}) for the GeoIP tests:
#   127.0.0.0/24 -> JP, 127.0.1.0/24 -> US, ::1/128 -> DE
# (127.0.2.0/24 and the rest: not in the database).
# Needs Debian's libmaxmind-db-writer-perl; exits 77 (skip) without it.
use strict;
use warnings;

my $out = shift @ARGV or die "usage: $0 OUT.mmdb\n";
eval { require MaxMind::DB::Writer::Tree; 1 } or do {
	print STDERR "make-test-mmdb: MaxMind::DB::Writer::Tree missing "
	    . "(apt-get install libmaxmind-db-writer-perl)\n";
	exit 77;
};

my $tree = MaxMind::DB::Writer::Tree->new(
	ip_version            => 6,
	record_size           => 24,
	database_type         => 'GeoLite2-Country',
	languages             => ['en'],
	description           => { en => 'mailward test database' },
	map_key_type_callback => sub {
		{ country => 'map', iso_code => 'utf8_string' }->{ $_[0] }
	},
	# IPv4 also at ::a.b.c.d, as in MaxMind's own databases
	alias_ipv6_to_ipv4    => 1,
	remove_reserved_networks => 0,
);
$tree->insert_network('127.0.0.0/24', { country => { iso_code => 'JP' } });
$tree->insert_network('127.0.1.0/24', { country => { iso_code => 'US' } });
$tree->insert_network('::1/128', { country => { iso_code => 'DE' } });
open(my $fh, '>:raw', $out) or die "make-test-mmdb: $out: $!\n";
$tree->write_tree($fh);
close($fh) or die "make-test-mmdb: $out: $!\n";
