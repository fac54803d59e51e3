"""Accepting, declining and claiming an invitation; asking for a new one."""
