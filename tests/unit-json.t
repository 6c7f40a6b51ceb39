#!/bin/sh
exec "${0%/*}/unit/json"
